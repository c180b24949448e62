"""Helpers of the audit tests on real PostgreSQL: commands run as an actor in a
correlation, and an event stored whose class no longer exists."""

from datetime import UTC, datetime

import psycopg

from projections.engine.watcher import EVENTS_CHANNEL


def run(executor, command, actor="ann", correlation=""):
    metadata = {"actor": actor, "correlation_id": correlation, "causation_id": "cause-1"}
    return executor.execute(command, metadata=metadata).position


def insert_retired_event(app, dsn, aggregate_id):
    """Store an event whose class does not exist (as if deleted from the code without a pin)."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    state = app.mapper.transcoder.encode(
        {
            "timestamp": at,
            "metadata": {"actor": "eve", "correlation_id": "req-9", "causation_id": ""},
            "colour": "blue",
            "owner": aggregate_id,
        }
    )
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO chronicle_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, 1, 'domain.retired:Retired.Painted', %s)",
            (aggregate_id, state),
        )
        conn.execute("SELECT pg_notify(%s, '')", (EVENTS_CHANNEL,))
