"""Job read models: ``jobs_log`` (status, progress, deadlines), ``job_items`` and ``job_dispatch``.

One projection keeps the three together, so the dispatch queue never disagrees with the
job's status: a queued job's items become leasable, a reported item leaves the queue, and a
finished or canceled job takes all of its items with it. It also follows the settlement of
each job's credits (UserCredits.Committed / RolledBack name the job), so that a client can
tell, and wait, until the credits of an ended job are settled.
"""

from typing import Any
from uuid import UUID

from psycopg import Cursor, sql

from domain.job import Job
from domain.jobstatus import STALLED, ItemOutcome, JobStatus, upload_key
from domain.usercredits import COMMITTED, ROLLED_BACK, UserCredits

INSERT_JOB = """
    INSERT INTO jobs_log (job_id, user_id, preset, status, item_count, cost_per_item, reserved,
        settlement, created_at, updated_at, version)
    VALUES (%s, %s, %s, 'created', %s, %s, %s, CASE WHEN %s > 0 THEN 'held' ELSE 'none' END,
        %s, %s, %s)
"""
SET_STATUS = """
    UPDATE jobs_log SET status = %s, {column} = %s, updated_at = %s, version = %s
    WHERE job_id = %s
"""
RECORD_ITEM = """
    UPDATE jobs_log SET succeeded_items = succeeded_items + %s, failed_items = failed_items + %s,
        last_progress_at = %s, updated_at = %s, version = %s
    WHERE job_id = %s
"""
INSERT_ITEM = """
    INSERT INTO job_items (job_id, item_index, outcome, result_key, error, reported_at)
    VALUES (%s, %s, %s, %s, %s, %s)
"""
START = """
    UPDATE jobs_log SET status = 'running', started_at = %s, last_progress_at = %s,
        updated_at = %s, version = %s
    WHERE job_id = %s
"""
FINISH = """
    UPDATE jobs_log SET status = %(status)s, reason = %(reason)s, finished_at = %(at)s,
        consumed = CASE WHEN %(status)s = 'done' THEN cost_per_item::bigint * %(succeeded)s
            ELSE 0 END,
        updated_at = %(at)s, version = %(version)s
    WHERE job_id = %(job_id)s
"""
ENQUEUE = """
    INSERT INTO job_dispatch (job_id, item_index, user_id, upload_key, queued_at)
    SELECT %s, item_index, %s, upload_key, %s FROM unnest(%s::int[], %s::text[])
        AS item (item_index, upload_key)
"""
DEQUEUE_ITEM = "DELETE FROM job_dispatch WHERE job_id = %s AND item_index = %s"
DEQUEUE_JOB = "DELETE FROM job_dispatch WHERE job_id = %s"
# Leases are written by workers' requests, not by events: a rebuild takes them from the old table.
CARRY_LEASES = """
    UPDATE job_dispatch AS d
    SET attempts = old.attempts, leased_by = old.leased_by, lease_expires_at = old.lease_expires_at
    FROM {old} AS old
    WHERE d.job_id = old.job_id AND d.item_index = old.item_index
"""
# The reservation of a job that reserved nothing is never settled: it stays 'none'.
SETTLE = """
    UPDATE jobs_log SET settlement = %s, settled_position = %s
    WHERE job_id = %s AND settlement = 'held'
"""


class JobsProjection:
    """Keeps jobs_log, job_items and job_dispatch equal to the fold of the Job events."""

    name = "jobs"
    tables = ("jobs_log", "job_items", "job_dispatch")  # what a rebuild recreates
    # The events it applies (the settlements too); the others are not even decoded.
    handles = (Job.Event, UserCredits.Committed, UserCredits.RolledBack)

    def carry_over(self, cur: Cursor[Any], retired_schema: str) -> None:
        """After a rebuild's switch: keep the leases workers hold on queued items."""
        old = sql.Identifier(retired_schema, "job_dispatch")
        cur.execute(sql.SQL(CARRY_LEASES).format(old=old))

    def project(self, cur: Cursor[Any], position: int, event: Any) -> None:
        if isinstance(event, UserCredits.Committed | UserCredits.RolledBack):
            _settle(cur, position, event)
        if not isinstance(event, Job.Event):
            return
        job_id, at, version = event.originator_id, event.timestamp, event.originator_version
        if isinstance(event, Job.Created):
            cur.execute(
                INSERT_JOB,
                (
                    job_id,
                    event.user_id,
                    event.preset,
                    event.item_count,
                    event.cost_per_item,
                    event.reserved,
                    event.reserved,
                    at,
                    at,
                    version,
                ),
            )
        elif isinstance(event, Job.UploadConfirmed):
            cur.execute(
                SET_STATUS.format(column="uploaded_at"),
                (JobStatus.UPLOADED, at, at, version, job_id),
            )
        elif isinstance(event, Job.Queued):
            cur.execute(
                SET_STATUS.format(column="queued_at"), (JobStatus.QUEUED, at, at, version, job_id)
            )
            _enqueue(cur, job_id, at)
        elif isinstance(event, Job.Started):
            cur.execute(START, (at, at, at, version, job_id))
        elif isinstance(event, Job.ItemSucceeded | Job.ItemFailed):
            succeeded = isinstance(event, Job.ItemSucceeded)
            cur.execute(RECORD_ITEM, (int(succeeded), int(not succeeded), at, at, version, job_id))
            cur.execute(
                INSERT_ITEM,
                (
                    job_id,
                    event.item_index,
                    ItemOutcome.SUCCEEDED if succeeded else ItemOutcome.FAILED,
                    getattr(event, "result_key", None),
                    getattr(event, "error", None),
                    at,
                ),
            )
            cur.execute(DEQUEUE_ITEM, (job_id, event.item_index))
        elif isinstance(event, Job.Finished | Job.Stalled | Job.Canceled):
            cur.execute(FINISH, {"job_id": job_id, "at": at, "version": version, **_ending(event)})
            cur.execute(DEQUEUE_JOB, (job_id,))


def _enqueue(cur: Cursor[Any], job_id: Any, at: Any) -> None:
    """Make every item of a queued job leasable."""
    row = cur.execute(
        "SELECT user_id, item_count FROM jobs_log WHERE job_id = %s", (job_id,)
    ).fetchone()
    assert row is not None, "a job's Created event is projected before its Queued event"
    user_id, count = row
    indexes = list(range(count))
    keys = [upload_key(user_id, job_id, index) for index in indexes]
    cur.execute(ENQUEUE, (job_id, user_id, at, indexes, keys))


def _settle(cur: Cursor[Any], position: int, event: Any) -> None:
    """Record that the job's credits were committed or rolled back, and where in the log."""
    try:
        job_id = UUID(event.job_id)
    except ValueError:  # a reservation that is not a job's: nothing to show
        return
    settlement = COMMITTED if isinstance(event, UserCredits.Committed) else ROLLED_BACK
    cur.execute(SETTLE, (settlement, position, job_id))


def _ending(event: Any) -> dict[str, Any]:
    """Status, reason and succeeded items of an event that ends a job."""
    if isinstance(event, Job.Finished):
        return {"status": event.status, "reason": None, "succeeded": event.succeeded}
    if isinstance(event, Job.Stalled):
        return {"status": JobStatus.FAILED, "reason": STALLED, "succeeded": 0}
    return {"status": JobStatus.CANCELED, "reason": event.reason, "succeeded": 0}
