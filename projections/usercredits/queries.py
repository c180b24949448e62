"""Queries on ``user_summary`` and ``credit_ledger``."""

from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from domain.errors import NotFound

SUMMARY_COLUMNS = """user_id, plan, credits, reserved_credits, active_jobs, max_concurrent_jobs,
    rule_slots_used, rule_slots_limit, usage, version, created_at, updated_at"""


def get_user_summary(pool: ConnectionPool, user_id: UUID) -> dict[str, Any]:
    """The ``user_summary`` row of ``user_id``, or NotFound."""
    with pool.connection() as conn:
        row = conn.execute(
            f"SELECT {SUMMARY_COLUMNS} FROM user_summary WHERE user_id = %s", (user_id,)
        ).fetchone()
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return dict(row)


def list_ledger(
    pool: ConnectionPool, user_id: UUID, *, limit: int, before: int | None = None
) -> list[dict[str, Any]]:
    """The newest ``limit`` ledger rows of ``user_id`` with ids below ``before``."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, position, kind, job_id, amount, delta, reason, actor, occurred_at "
            "FROM credit_ledger WHERE user_id = %s AND (%s::bigint IS NULL OR id < %s) "
            "ORDER BY id DESC LIMIT %s",
            (user_id, before, before, limit),
        ).fetchall()
    return [dict(r) for r in rows]
