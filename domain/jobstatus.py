"""A job's states and a worker's reports: the words the Job aggregate, its read model and the
API share (the values are stored in events and ``jobs_log``, and sent to clients)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


class JobStatus(StrEnum):
    """Where a job is; the values are stored (events, ``jobs_log``) and sent to clients."""

    CREATED = "created"
    UPLOADED = "uploaded"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELED = "canceled"


class ItemOutcome(StrEnum):
    """What a worker reports of one item."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ReportStatus(StrEnum):
    """What a worker's report of an item came to."""

    RECORDED = "recorded"
    ALREADY_REPORTED = "already_reported"
    IGNORED = "ignored"


FINAL = (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELED)
CANCELABLE = (JobStatus.CREATED, JobStatus.UPLOADED, JobStatus.QUEUED, JobStatus.RUNNING)
UPLOAD_DEADLINE_PASSED = "upload deadline passed"
EXECUTE_DEADLINE_PASSED = "execute deadline passed"  # uploaded, never executed
QUEUE_DEADLINE_PASSED = "queue deadline passed"  # queued, never started
STALLED = "stalled"


@dataclass(frozen=True)
class ItemReport:
    """The answer to a worker's report of one item (a repeat gets the same answer)."""

    job_id: UUID
    item_index: int
    outcome: ItemOutcome
    status: ReportStatus
