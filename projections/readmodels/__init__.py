"""Read models: projections that keep PostgreSQL tables equal to a fold of the log."""
