"""How far each projection and reactor is behind the event log, and what stopped or parked."""

from datetime import UTC, datetime
from typing import Any

import psycopg

from eventstore.decoding import stored_time
from projections.reactors.deadletters import open_counts
from projections.registry import consumer_kinds


def projection_status(dsn: str) -> list[dict[str, Any]]:
    """Each consumer's kind, position, lag, state and error, and its open dead letters.

    Every registered projection and reactor is listed, at position 0 until it first runs.
    """
    with psycopg.connect(dsn, autocommit=True) as conn:
        head_row = conn.execute(
            "SELECT coalesce(max(notification_id), 0) FROM chronicle_events"
        ).fetchone()
        head = int(head_row[0]) if head_row else 0
        rows = conn.execute(
            "SELECT name, kind, position, state, failed_position, error, failed_at, updated_at, "
            "(SELECT e.state FROM chronicle_events e WHERE e.notification_id > p.position "
            "ORDER BY e.notification_id LIMIT 1) "
            "FROM projection_position p ORDER BY kind, name"
        ).fetchall()
        first_event = conn.execute(
            "SELECT state FROM chronicle_events ORDER BY notification_id LIMIT 1"
        ).fetchone()
        letters = open_counts(conn)
    recorded = {row[0] for row in rows}
    rows += [
        (name, kind, 0, "not started", None, None, None, None, first_event and first_event[0])
        for name, kind in consumer_kinds().items()
        if name not in recorded
    ]
    now = datetime.now(UTC)
    rows.sort(key=lambda row: (row[1], row[0]))
    return [
        {
            "name": name,
            "kind": kind,
            "position": position,
            "head": head,
            "lag": head - position,
            # How long the oldest event it has yet to handle has waited (0 when caught up).
            "lag_seconds": _age(stored_time(next_state), now),
            "state": state,
            "failed_position": failed_position,
            "error": error,
            "failed_at": failed_at,
            "updated_at": updated_at,
            "parked": letters.get(name, {}).get("parked", 0)
            + letters.get(name, {}).get("retrying", 0),
            "waiting": letters.get(name, {}).get("waiting", 0),
        }
        for (
            name,
            kind,
            position,
            state,
            failed_position,
            error,
            failed_at,
            updated_at,
            next_state,
        ) in rows
    ]


def _age(happened: datetime | None, now: datetime) -> float:
    return max(0.0, (now - happened).total_seconds()) if happened else 0.0
