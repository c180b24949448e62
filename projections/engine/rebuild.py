"""Rebuilding a projection's read model from position 0 while the current one keeps serving.

``chronicle projections rebuild NAME`` runs ``rebuild``:
1. Shadow: schema ``chronicle_rebuild`` gets an empty copy of each of the projection's tables
   (columns, defaults, checks, keys and indexes under their own names, since names are per
   schema) and a row at position 0 in ``chronicle_rebuild.progress``, in one transaction.
2. Catch up: the projection applies the log from position 0 with ``search_path`` set to
   ``chronicle_rebuild, public``, so its unqualified SQL writes the shadow tables; each batch
   commits with its progress row. The serving tables and the live projector are untouched.
3. Switch, once less than a batch behind the head, or once a round of catching up to the head
   no longer shrinks what is left (writes as fast as the rebuild), the new tables analyzed
   first so that the planner knows them from their first query: one transaction locks the
   projection's position row, then its serving tables (readers and the live projector wait,
   briefly), applies what the shadow still lacks to reach the live projector (held where it is
   by its row, so this ends), moves the serving tables to ``chronicle_retired`` and the shadow
   ones to ``public``, hands their sequences over, carries over state that no event holds (a
   projection's ``carry_over``: the job queue's leases), and sets the projection's position to
   the shadow's. A query that waited on the lock finds the new table by its name once it gets
   it; the live projector's batch that waited fails its position check before writing
   anything, rolls back, and is applied again from there.
4. The retired tables are dropped.

A crash before the switch leaves the serving tables as they were, and running the command again
resumes from the shadow's progress (``restart=True`` starts over, e.g. after a migration changed
a serving table). A crash after it leaves at most the retired tables, which the next rebuild
drops. Reactors are refused: rebuilding one would repeat its side effects (the credits saga would
settle jobs again); only read models are rebuilt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple
from uuid import UUID

import psycopg
from psycopg import sql

from projections.engine.follower import POSITIONS_CHANNEL
from projections.engine.log import head_on
from projections.engine.runner import Projection, apply
from projections.engine.tablecopies import (
    SHADOW,
    analyze,
    create_copy,
    drop_retired,
    swap_tables,
)

log = logging.getLogger(__name__)
SWITCH_LOCK_TIMEOUT = "2s"  # a switch that waits longer on readers gives way and tries again


class RebuildRefused(Exception):
    """This name cannot be rebuilt (unknown, a reactor, or a rebuild of it already running)."""


@dataclass(frozen=True)
class Rebuilt:
    """What one run of ``rebuild`` did."""

    name: str
    applied: int  # events applied by this run (a resumed run applies only the rest)
    position: int  # the position the new tables serve from
    seconds: float


def rebuild(
    dsn: str,
    event_store: Any,
    projection: Projection,
    *,
    batch_size: int = 5000,
    restart: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Rebuilt:
    """Rebuild ``projection`` into new tables and switch to them; ``progress`` gets positions."""
    began = time.monotonic()
    with psycopg.connect(dsn, autocommit=True) as conn:
        _hold_rebuild_lock(conn, projection.name)
        drop_retired(conn, projection)
        if restart:
            _discard_shadow(conn, projection)
        position = _prepare_shadow(conn, projection)
        conn.execute(f"SET search_path = {SHADOW}, public")
        applied, behind = 0, None
        while True:
            # A round: catch up to the head as it was when the round began.
            head = head_on(conn)
            while position < head and (notifications := log_page(conn, position, batch_size)):
                # Pipelined: the projection's statements go out without waiting on each answer.
                with conn.pipeline(), conn.transaction(), conn.cursor() as cur:
                    apply(cur, event_store, projection, notifications)
                    _record_progress(cur, projection.name, notifications[-1].id)
                applied += len(notifications)
                position = notifications[-1].id
                if progress is not None:
                    progress(position)
            # Switch once close, or once rounds stop shrinking (writes as fast as the rebuild):
            # the switch applies what is left under its lock, so it always ends.
            was, behind = behind, head_on(conn) - position
            if behind < batch_size or (was is not None and behind >= was):
                analyze(conn, projection)  # new tables have no statistics for the planner yet
                switched = _switch(conn, event_store, projection, position, batch_size)
                if switched is not None:
                    position, last = switched
                    applied += last
                    break
        drop_retired(conn, projection)
    return Rebuilt(projection.name, applied, position, time.monotonic() - began)


def shadow_positions(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """The position of each rebuild under way (none when no rebuild is)."""
    exists = conn.execute("SELECT to_regclass(%s)", (f"{SHADOW}.progress",)).fetchone()
    if not exists or exists[0] is None:
        return {}
    rows = conn.execute(f"SELECT name, position FROM {SHADOW}.progress").fetchall()
    return {str(name): int(position) for name, position in rows}


def _hold_rebuild_lock(conn: psycopg.Connection[Any], name: str) -> None:
    row = conn.execute(
        "SELECT pg_try_advisory_lock(hashtext('chronicle.rebuild.' || %s))", (name,)
    ).fetchone()
    if not (row and row[0]):
        raise RebuildRefused(f"a rebuild of {name} is already running")


class Stored(NamedTuple):
    """A row of the log, as much of it as decoding and projecting read."""

    id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes


# In the binary format (bytea as stored, not as hex text) and as plain tuples: the library's
# select_notifications costs more than decoding and projecting the events it returns.
PAGE = """
    SELECT notification_id, originator_id, originator_version, topic, state
    FROM public.chronicle_events WHERE notification_id > %s ORDER BY notification_id LIMIT %s
"""


def log_page(conn: psycopg.Connection[Any], position: int, limit: int) -> list[Stored]:
    with conn.cursor(binary=True) as cur:
        return [Stored(*row) for row in cur.execute(PAGE, (position, limit))]


def _prepare_shadow(conn: psycopg.Connection[Any], projection: Projection) -> int:
    """The shadow's position: where an earlier run stopped, or 0 in new empty tables."""
    with conn.transaction():
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SHADOW}")
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SHADOW}.progress (name text PRIMARY KEY, "
            "position bigint NOT NULL, started_at timestamptz NOT NULL DEFAULT now(), "
            "updated_at timestamptz NOT NULL DEFAULT now())"
        )
        row = conn.execute(
            f"SELECT position FROM {SHADOW}.progress WHERE name = %s FOR UPDATE",
            (projection.name,),
        ).fetchone()
        if row is not None:
            log.info("rebuild of %s resumes at log position %d", projection.name, row[0])
            return int(row[0])
        for table in projection.tables:
            create_copy(conn, table)
        conn.execute(
            f"INSERT INTO {SHADOW}.progress (name, position) VALUES (%s, 0)", (projection.name,)
        )
    return 0


def _record_progress(cur: psycopg.Cursor[Any], name: str, position: int) -> None:
    cur.execute(
        f"UPDATE {SHADOW}.progress SET position = %s, updated_at = now() WHERE name = %s",
        (position, name),
    )


def _switch(
    conn: psycopg.Connection[Any],
    event_store: Any,
    projection: Projection,
    position: int,
    batch_size: int,
) -> tuple[int, int] | None:
    """Serve the shadow tables from now on: their position and the events applied to reach it.

    None when readers held a table past the lock timeout: nothing changed, try again.
    """
    applied = 0
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(f"SET LOCAL lock_timeout = '{SWITCH_LOCK_TIMEOUT}'")
            # The position row first, the tables after: the order the live projector takes them
            # in (``projections.engine.runner.project``), so the two cannot deadlock.
            row = cur.execute(
                "SELECT position FROM projection_position WHERE name = %s FOR UPDATE",
                (projection.name,),
            ).fetchone()
            live = int(row[0]) if row else 0
            for table in projection.tables:  # one at a time, in the projection's order
                cur.execute(
                    sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                        sql.Identifier("public", table)
                    )
                )
            # Only as far as the live projector (held at ``live`` by its row): it goes on after.
            while position < live and (notifications := log_page(conn, position, batch_size)):
                apply(cur, event_store, projection, notifications)
                applied += len(notifications)
                position = notifications[-1].id
            swap_tables(cur, projection)
            _serve_from(cur, projection.name, position)
    except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as exc:
        log.info("rebuild of %s waits for its tables' readers (%s)", projection.name, exc)
        return None
    return position, applied


def _serve_from(cur: psycopg.Cursor[Any], name: str, position: int) -> None:
    """The live projector goes on from the shadow's position; a failure it had is cleared."""
    cur.execute(
        "INSERT INTO projection_position (name, kind, position) VALUES (%s, 'projection', %s) "
        "ON CONFLICT (name) DO UPDATE SET position = excluded.position, state = 'active', "
        "failed_position = NULL, error = NULL, failed_at = NULL, updated_at = now()",
        (name, position),
    )
    cur.execute(f"DELETE FROM {SHADOW}.progress WHERE name = %s", (name,))
    cur.execute("SELECT pg_notify(%s, %s)", (POSITIONS_CHANNEL, f"{name}:{position}"))


def _discard_shadow(conn: psycopg.Connection[Any], projection: Projection) -> None:
    with conn.transaction():
        for table in projection.tables:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SHADOW, table)))
        if shadow_positions(conn):
            conn.execute(f"DELETE FROM {SHADOW}.progress WHERE name = %s", (projection.name,))
