"""The read side: the projector runner, read models and side effects that follow the event log."""
