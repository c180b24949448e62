"""How far each projection and reactor is behind the event log, and what stopped or parked.

A consumer's state is ``failed`` (stopped at a poison event), ``active`` (an instance follows the
log), ``stopped`` (no instance runs it now) or ``not started`` (none ever has); ``standbys``
counts the instances waiting to take over. A rebuild under way is listed as its own row, kind
``rebuild``, state ``rebuilding``, with the shadow tables' position.
"""

from datetime import UTC, datetime
from typing import Any

import psycopg

from eventstore.decoding import stored_time
from projections.engine.deadletters import open_counts
from projections.engine.follower import LEADER_KEY, STANDBY_KEY
from projections.engine.log import head_on
from projections.engine.rebuild import shadow_positions

# The advisory locks held in this database, as the bigint keys the followers take them by.
HELD = """
    SELECT (l.classid::bigint << 32) | l.objid::bigint AS key, l.mode FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
CONSUMERS = f"""
    WITH held AS ({HELD})
    SELECT name, kind, position,
        CASE WHEN state = 'failed' THEN 'failed'
             WHEN EXISTS (SELECT 1 FROM held WHERE mode = 'ExclusiveLock'
                          AND key = {LEADER_KEY % "p.name"}) THEN 'active'
             ELSE 'stopped' END,
        failed_position, error, failed_at, updated_at,
        (SELECT e.state FROM chronicle_events e WHERE e.notification_id > p.position
         ORDER BY e.notification_id LIMIT 1),
        (SELECT count(*) FROM held WHERE mode = 'ShareLock' AND key = {STANDBY_KEY % "p.name"})
    FROM projection_position p ORDER BY kind, name
"""


def consumer_status(dsn: str, kinds: dict[str, str]) -> list[dict[str, Any]]:
    """Each consumer's kind, position, lag, state and error, and its open dead letters.

    Every consumer of ``kinds`` (name -> kind) is listed, at position 0 until it first runs.
    """
    with psycopg.connect(dsn, autocommit=True) as conn:
        head = head_on(conn)
        rows = conn.execute(CONSUMERS).fetchall()
        rebuilds = shadow_positions(conn)
        first_event = conn.execute(
            "SELECT state FROM chronicle_events ORDER BY notification_id LIMIT 1"
        ).fetchone()
        letters = open_counts(conn)
    recorded = {row[0] for row in rows}
    rows += [
        (name, kind, 0, "not started", None, None, None, None, first_event and first_event[0], 0)
        for name, kind in kinds.items()
        if name not in recorded
    ]
    rows += [
        (name, "rebuild", position, "rebuilding", None, None, None, None, None, 0)
        for name, position in rebuilds.items()
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
            "standbys": standbys,
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
            standbys,
        ) in rows
    ]


def _age(happened: datetime | None, now: datetime) -> float:
    return max(0.0, (now - happened).total_seconds()) if happened else 0.0
