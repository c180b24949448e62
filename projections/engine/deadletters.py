"""``dead_letters``: events a reactor could not deliver, and the events waiting behind them.

A letter's ``state``:
- ``parked``: delivery failed ``attempts`` times; the reactor went on with other aggregates;
- ``waiting``: a later event of a parked aggregate, kept so that order is kept and nothing lost;
- ``retrying``: an admin asked for the parked letter again; the reactor delivers it and then the
  letters waiting behind it, in order (a failure parks that letter again);
- ``delivered``: done; kept for the record.
Only the active reactor instance writes letters, apart from an admin's ``parked → retrying``.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from domain.errors import IllegalTransition, NotFound
from projections.engine.watcher import EVENTS_CHANNEL

OPEN = ("parked", "waiting", "retrying")
STATES = (*OPEN, "delivered")
COLUMNS = """id, reactor, position, aggregate_id, aggregate_version, topic, state, attempts,
    error, first_failed_at, last_failed_at, delivered_at, recorded_at"""

RECORD = """
    INSERT INTO dead_letters (reactor, position, aggregate_id, aggregate_version, topic, state,
        attempts, error, first_failed_at, last_failed_at)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s,
        CASE WHEN %s > 0 THEN now() END, CASE WHEN %s > 0 THEN now() END)
    ON CONFLICT (reactor, position) DO NOTHING
"""


def record(
    cur: psycopg.Cursor[Any], reactor: str, notification: Any, attempts: int, error: str | None
) -> None:
    """Park ``notification`` (after ``attempts`` failures), or keep it waiting (``attempts`` 0)."""
    state = "parked" if attempts else "waiting"
    cur.execute(
        RECORD,
        (
            reactor,
            notification.id,
            notification.originator_id,
            notification.originator_version,
            notification.topic,
            state,
            attempts,
            error,
            attempts,
            attempts,
        ),
    )


def is_blocked(conn: psycopg.Connection[Any], reactor: str, aggregate_id: Any) -> bool:
    """Whether an earlier event of ``aggregate_id`` is parked (so this one must wait)."""
    row = conn.execute(
        "SELECT 1 FROM dead_letters WHERE reactor = %s AND aggregate_id = %s "
        "AND state <> 'delivered' LIMIT 1",
        (reactor, aggregate_id),
    ).fetchone()
    return row is not None


def retrying(conn: psycopg.Connection[Any], reactor: str) -> list[tuple[int, Any, int]]:
    """``(id, aggregate_id, position)`` of each letter an admin asked to retry, oldest first."""
    rows = conn.execute(
        "SELECT id, aggregate_id, position FROM dead_letters "
        "WHERE reactor = %s AND state = 'retrying' ORDER BY position",
        (reactor,),
    ).fetchall()
    return [(int(r[0]), r[1], int(r[2])) for r in rows]


def queue_of(
    conn: psycopg.Connection[Any], reactor: str, aggregate_id: Any, since: int
) -> list[tuple[int, int, int]]:
    """``(id, position, attempts)`` of the open letters of an aggregate from ``since``, in order."""
    rows = conn.execute(
        "SELECT id, position, attempts FROM dead_letters WHERE reactor = %s "
        "AND aggregate_id = %s AND position >= %s AND state <> 'delivered' ORDER BY position",
        (reactor, aggregate_id, since),
    ).fetchall()
    return [(int(r[0]), int(r[1]), int(r[2])) for r in rows]


def mark_delivered(conn: psycopg.Connection[Any], letter_id: int, attempts: int) -> None:
    conn.execute(
        "UPDATE dead_letters SET state = 'delivered', delivered_at = now(), "
        "attempts = attempts + %s WHERE id = %s",
        (attempts, letter_id),
    )


def mark_parked(conn: psycopg.Connection[Any], letter_id: int, attempts: int, error: str) -> None:
    conn.execute(
        "UPDATE dead_letters SET state = 'parked', attempts = attempts + %s, error = %s, "
        "first_failed_at = coalesce(first_failed_at, now()), last_failed_at = now() "
        "WHERE id = %s",
        (attempts, error, letter_id),
    )


def list_dead_letters(
    pool: ConnectionPool,
    *,
    reactor: str | None = None,
    states: tuple[str, ...] = OPEN,
    after: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Letters in ``states`` (of ``reactor`` if given) with ids above ``after``, oldest first."""
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM dead_letters WHERE state = ANY(%s) "
            "AND (%s::text IS NULL OR reactor = %s) AND id > %s ORDER BY id LIMIT %s",
            (list(states), reactor, reactor, after, limit),
        ).fetchall()
    return [dict(r) for r in rows]


def request_retry(pool: ConnectionPool, letter_id: int) -> dict[str, Any]:
    """Ask the reactor to deliver parked letter ``letter_id`` again, then those behind it."""
    with pool.connection() as conn:
        row = conn.execute(
            f"UPDATE dead_letters SET state = 'retrying' WHERE id = %s AND state = 'parked' "
            f"RETURNING {COLUMNS}",
            (letter_id,),
        ).fetchone()
        if row is None:
            row = conn.execute(
                f"SELECT {COLUMNS} FROM dead_letters WHERE id = %s", (letter_id,)
            ).fetchone()
        else:  # wake the reactor now rather than at its next poll
            conn.execute("SELECT pg_notify(%s, '')", (EVENTS_CHANNEL,))
    if row is None:
        raise NotFound(f"dead letter {letter_id} not found")
    letter = dict(row)
    if letter["state"] == "waiting":
        raise IllegalTransition(
            f"dead letter {letter_id} waits behind a parked event of the same aggregate; "
            "retry that one",
            state="waiting",
        )
    if letter["state"] == "delivered":
        raise IllegalTransition(f"dead letter {letter_id} was delivered", state="delivered")
    return letter


def open_counts(conn: psycopg.Connection[Any]) -> dict[str, dict[str, int]]:
    """Per reactor, how many letters are open in each state."""
    rows = conn.execute(
        "SELECT reactor, state, count(*) FROM dead_letters WHERE state <> 'delivered' "
        "GROUP BY reactor, state"
    ).fetchall()
    counts: dict[str, dict[str, int]] = {}
    for reactor, state, count in rows:
        counts.setdefault(reactor, {})[state] = int(count)
    return counts
