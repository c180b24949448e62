"""The GPU job queue (the Queues replacement): workers lease items from ``job_dispatch``.

Rows appear when a job is queued and leave when their item is reported, both by the jobs
projection. A lease is a row update under ``FOR UPDATE SKIP LOCKED``, so concurrent workers
never get the same item; an expired lease is offered again, up to the attempt limit.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

LEASE = """
    WITH picked AS (
        SELECT job_id, item_index FROM job_dispatch
        WHERE (lease_expires_at IS NULL OR lease_expires_at < now()) AND attempts < %(attempts)s
        ORDER BY queued_at, job_id, item_index
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    UPDATE job_dispatch AS d
    SET attempts = d.attempts + 1, leased_by = %(worker)s,
        lease_expires_at = now() + make_interval(secs => %(seconds)s)
    FROM picked
    WHERE d.job_id = picked.job_id AND d.item_index = picked.item_index
    RETURNING d.job_id, d.item_index, d.user_id, d.upload_key, d.attempts, d.lease_expires_at
"""
EXHAUSTED = """
    SELECT job_id, item_index, attempts FROM job_dispatch
    WHERE attempts >= %s AND lease_expires_at < %s
    ORDER BY lease_expires_at
    LIMIT %s
"""

HOLDERS = (
    "SELECT item_index, leased_by FROM job_dispatch WHERE job_id = %s AND item_index = ANY(%s)"
)


def lease(
    pool: ConnectionPool, worker: str, *, limit: int, seconds: int, max_attempts: int
) -> list[dict[str, Any]]:
    """Lease up to ``limit`` items for ``worker`` for ``seconds``, oldest queued first."""
    with pool.connection() as conn:
        rows = conn.execute(
            LEASE,
            {"worker": worker, "limit": limit, "seconds": seconds, "attempts": max_attempts},
        ).fetchall()
    return sorted((dict(r) for r in rows), key=lambda r: (str(r["job_id"]), r["item_index"]))


def exhausted_leases(
    pool: ConnectionPool, max_attempts: int, now: datetime, limit: int = 500
) -> list[Any]:
    """Items whose last allowed lease expired before ``now`` without a result."""
    with pool.connection() as conn:
        return list(conn.execute(EXHAUSTED, (max_attempts, now, limit)).fetchall())


class JobLeases:
    """Who holds the leases of some items of one job, read in one query when first asked."""

    def __init__(self, pool: ConnectionPool, job_id: UUID, item_indexes: list[int]) -> None:
        self._pool = pool
        self._job_id = job_id
        self._item_indexes = item_indexes
        self._holders: dict[int, str] | None = None

    def holder(self, item_index: int) -> str | None:
        """The worker leasing the item while it waits for its report; else None."""
        if self._holders is None:
            with self._pool.connection() as conn:
                rows: Any = conn.execute(HOLDERS, (self._job_id, self._item_indexes)).fetchall()
            self._holders = {r["item_index"]: r["leased_by"] for r in rows if r["leased_by"]}
        return self._holders.get(item_index)
