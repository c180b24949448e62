"""What an admin recognises of an aggregate beside its id, read from the read models at once.

A test: its title; a job: its preset and owner; a user: their plan; a rule: its name. One query
per page of events (``= ANY`` over every id on it), never a replay per row; an id no read model
knows (a take, an event of a class gone) has no label.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

LABELS = """
    SELECT test_id, '“' || title || '”' FROM test_catalog WHERE test_id = ANY(%(ids)s)
    UNION ALL
    SELECT job_id, preset || ' job of user ' || left(user_id::text, 8)
        FROM jobs_log WHERE job_id = ANY(%(ids)s)
    UNION ALL
    SELECT user_id, plan || ' user' FROM user_summary WHERE user_id = ANY(%(ids)s)
    UNION ALL
    SELECT rule_id, 'rule “' || name || '”' FROM rules WHERE rule_id = ANY(%(ids)s)
"""


def labels_of(pool: ConnectionPool, ids: Iterable[Any]) -> dict[UUID, str]:
    """A label for each of ``ids`` that a read model knows."""
    wanted = sorted({i for i in ids if isinstance(i, UUID)})
    if not wanted:
        return {}
    with pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(LABELS, {"ids": wanted}).fetchall()
    return {row[0]: str(row[1]) for row in rows}
