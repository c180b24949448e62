"""The event log's head: the position of its newest event."""

from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool


def log_head(pool: ConnectionPool) -> int:
    """The position of the newest event in the log."""
    with pool.connection() as conn:
        return head_on(conn)


def head_on(conn: psycopg.Connection[Any]) -> int:
    """The position of the newest event in the log, read on ``conn`` (whatever its row factory
    and search path)."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(
            "SELECT coalesce(max(notification_id), 0) FROM public.chronicle_events"
        ).fetchone()
    return int(row[0]) if row else 0
