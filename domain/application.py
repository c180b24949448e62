"""The one eventsourcing Application that owns every aggregate: one ordered event log."""

from eventsourcing.application import Application


class Chronicle(Application):
    """All of Chronicle's aggregates, stored in ``chronicle_events`` (the name is schema)."""

    name = "chronicle"
    is_snapshotting_enabled = True
