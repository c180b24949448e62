"""The write side's infrastructure: settings, PostgreSQL, the event store and the command executor."""
