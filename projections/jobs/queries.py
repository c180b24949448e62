"""Queries on ``jobs_log`` and ``job_items``: a user's jobs and their items."""

from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

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
