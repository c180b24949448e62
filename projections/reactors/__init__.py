"""Reactors: side effects that follow the log at least once (commands, deadlines)."""
