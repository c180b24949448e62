"""Upload sessions: ``upload_sessions`` (where each session stands) and what its deadline
finds due."""
