"""What the deadlines find due, read from ``jobs_log`` and ``job_dispatch``.

A job still waiting for its upload past the upload timeout; one uploaded but never executed,
or queued but none of whose items was ever leased, past the queue timeout; a running job
without progress past the stall timeout. (An item whose last allowed lease expired is the
queue's: ``projections.jobs.dispatch.exhausted_leases``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

UPLOAD_DUE = """
    SELECT job_id FROM jobs_log WHERE status = 'created' AND created_at < %s
    ORDER BY created_at LIMIT %s
"""
EXECUTE_DUE = """
    SELECT job_id FROM jobs_log WHERE status = 'uploaded' AND uploaded_at < %s
    ORDER BY uploaded_at LIMIT %s
"""
QUEUE_DUE = """
    SELECT job_id FROM jobs_log AS j WHERE status = 'queued' AND queued_at < %s
        AND NOT EXISTS (SELECT FROM job_dispatch AS d WHERE d.job_id = j.job_id AND d.attempts > 0)
    ORDER BY queued_at LIMIT %s
"""
STALL_DUE = """
    SELECT job_id FROM jobs_log WHERE status = 'running' AND last_progress_at < %s
    ORDER BY last_progress_at LIMIT %s
"""


@dataclass(frozen=True)
class DueJobs:
    """The ids of the jobs each deadline applies to, oldest first."""

    uploads: list[UUID]
    unstarted: list[UUID]
    stalled: list[UUID]


def due_jobs(
    pool: ConnectionPool,
    *,
    created_before: datetime,
    unstarted_before: datetime,
    stalled_before: datetime,
    limit: int,
) -> DueJobs:
    """The jobs whose deadlines passed: at most ``limit`` of each kind."""
    with pool.connection() as conn:  # rows are dicts (the pool's row factory)
        uploads: list[Any] = conn.execute(UPLOAD_DUE, (created_before, limit)).fetchall()
        unstarted: list[Any] = conn.execute(EXECUTE_DUE, (unstarted_before, limit)).fetchall()
        unstarted += conn.execute(QUEUE_DUE, (unstarted_before, limit)).fetchall()
        stalled: list[Any] = conn.execute(STALL_DUE, (stalled_before, limit)).fetchall()
    return DueJobs(
        [row["job_id"] for row in uploads],
        [row["job_id"] for row in unstarted],
        [row["job_id"] for row in stalled],
    )
