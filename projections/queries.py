"""Queries on the read models (never on aggregates)."""

from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

from domain.errors import NotFound

SUMMARY_COLUMNS = """user_id, plan, credits, reserved_credits, active_jobs, max_concurrent_jobs,
    rule_slots_used, rule_slots_limit, version, created_at, updated_at"""


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


JOB_COLUMNS = """job_id, user_id, preset, status, reason, item_count, succeeded_items, failed_items,
    reserved, consumed, settlement, settled_position, created_at, uploaded_at, queued_at,
    started_at, finished_at, updated_at"""


def get_job(pool: ConnectionPool, job_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    """The ``jobs_log`` row of the user's job, or None."""
    with pool.connection() as conn:
        row = conn.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs_log WHERE job_id = %s AND user_id = %s",
            (job_id, user_id),
        ).fetchone()
    return dict(row) if row else None


def list_job_items(
    pool: ConnectionPool, job_id: UUID, *, offset: int, limit: int
) -> list[dict[str, Any]]:
    """Reported items of a job, by index."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT item_index, outcome, result_key, error, reported_at FROM job_items "
            "WHERE job_id = %s AND item_index >= %s ORDER BY item_index LIMIT %s",
            (job_id, offset, limit),
        ).fetchall()
    return [dict(r) for r in rows]


def list_jobs(
    pool: ConnectionPool, user_id: UUID, *, limit: int, after: tuple[Any, UUID] | None
) -> list[dict[str, Any]]:
    """The user's jobs, newest first, after the ``(created_at, job_id)`` of the last page."""
    with pool.connection() as conn:
        if after is None:
            rows = conn.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs_log WHERE user_id = %s "
                "ORDER BY created_at DESC, job_id DESC LIMIT %s",
                (user_id, limit),
            ).fetchall()
        else:
            rows = conn.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs_log WHERE user_id = %s "
                "AND (created_at, job_id) < (%s, %s) "
                "ORDER BY created_at DESC, job_id DESC LIMIT %s",
                (user_id, *after, limit),
            ).fetchall()
    return [dict(r) for r in rows]


RULE_COLUMNS = "rule_id, name, preset, params, created_at, updated_at, version"


def list_rules(pool: ConnectionPool, user_id: UUID) -> list[dict[str, Any]]:
    """The user's rules, oldest first."""
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {RULE_COLUMNS} FROM rules WHERE user_id = %s ORDER BY created_at, rule_id",
            (user_id,),
        ).fetchall()
    return [dict(r) for r in rows]


def get_rule(pool: ConnectionPool, rule_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    """The user's rule, or None."""
    with pool.connection() as conn:
        row = conn.execute(
            f"SELECT {RULE_COLUMNS} FROM rules WHERE rule_id = %s AND user_id = %s",
            (rule_id, user_id),
        ).fetchone()
    return dict(row) if row else None


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
