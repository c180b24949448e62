"""A job's states and a worker's reports: the words the Job aggregate, its read model and the
API share (the values are stored in events and ``jobs_log``, and sent to clients), and what a
report must be to be recorded."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from domain.checks import require_count, require_text
from domain.errors import InvalidCommand

MAX_KEY = 1024  # an object key: an item's upload or result
MAX_CALLBACK_KEY = 200  # a worker's key for one report (``idempotency_key`` over HTTP)
MAX_ERROR_REPORTED = 10_000  # a worker's error text as sent ...
MAX_ERROR = 1000  # ... and as kept per item, so that 10,000 items stay compact


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


def check_report(
    item_count: int,
    item_index: int,
    outcome: str,
    callback_key: str,
    result_key: str | None,
    error: str | None,
) -> ItemOutcome:
    """The outcome of a worker's report on one of ``item_count`` items, or InvalidCommand."""
    require_count("item_index", item_index, minimum=0)
    if item_index >= item_count:
        raise InvalidCommand(f"item_index {item_index} is out of range for {item_count} items")
    if outcome not in tuple(ItemOutcome):
        known = ", ".join(ItemOutcome)
        raise InvalidCommand(f"outcome must be one of {known}, got {outcome!r}")
    require_text("callback_key", callback_key, longest=MAX_CALLBACK_KEY)
    if result_key is not None:
        require_text("result_key", result_key, longest=MAX_KEY)
    if error is not None and (not isinstance(error, str) or len(error) > MAX_ERROR_REPORTED):
        raise InvalidCommand(f"error must be null or at most {MAX_ERROR_REPORTED} characters")
    return ItemOutcome(outcome)


def upload_key(user_id: UUID, job_id: UUID, item_index: int) -> str:
    """The object key an item is uploaded to: under the user and the job."""
    return f"uploads/{user_id}/{job_id}/{item_index}"


def result_key(user_id: UUID, job_id: UUID, item_index: int) -> str:
    """The object key a worker uploads an item's result to, beside its upload."""
    return f"results/{user_id}/{job_id}/{item_index}"
