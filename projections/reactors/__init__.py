"""Reactors: side effects that follow the log at least once, with retries and dead letters."""
