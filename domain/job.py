"""Job (replaces the JobCoordinator Durable Object): ``created → uploaded → queued → running →
done | failed | canceled``, each item's result counted once whatever the duplicates: callback
keys are kept for good (no window), so a repeat records nothing and gets the first answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.base import Aggregate
from domain.checks import require_count, require_text
from domain.errors import IdempotencyKeyReused, IllegalTransition, InvalidCommand

CREATED, UPLOADED, QUEUED, RUNNING = "created", "uploaded", "queued", "running"
DONE, FAILED, CANCELED = "done", "failed", "canceled"
FINAL = (DONE, FAILED, CANCELED)
CANCELABLE = (CREATED, UPLOADED, QUEUED, RUNNING)
SUCCEEDED = "succeeded"
OUTCOMES = (SUCCEEDED, FAILED)
UPLOAD_DEADLINE_PASSED = "upload deadline passed"
STALLED = "stalled"
MAX_KEY = 1024
TIMESTAMPS = ("created_at", "uploaded_at", "queued_at", "started_at", "finished_at")
MAX_ERROR = 1000


class Job(Aggregate):
    """A GPU job: ``item_count`` uploads, processed by workers, reported item by item."""

    snapshot_interval = 1000

    class Created(Aggregate.Created):
        user_id: UUID
        preset: str
        item_count: int
        cost_per_item: int
        reserved: int

    class UploadConfirmed(Aggregate.Event):
        def apply(self, job: Job) -> None:
            job.status = UPLOADED
            job.uploaded_at = self.timestamp

    class Queued(Aggregate.Event):
        def apply(self, job: Job) -> None:
            job.status = QUEUED
            job.queued_at = self.timestamp

    class Started(Aggregate.Event):
        def apply(self, job: Job) -> None:
            job.status = RUNNING
            job.started_at = self.timestamp
            job.last_progress_at = self.timestamp

    class ItemSucceeded(Aggregate.Event):
        index: int
        callback_key: str
        result_key: str | None

        def apply(self, job: Job) -> None:
            job.results[str(self.index)] = [SUCCEEDED, self.result_key, None]
            job.callback_keys[self.callback_key] = str(self.index)
            job.done_items += 1
            job.last_progress_at = self.timestamp

    class ItemFailed(Aggregate.Event):
        index: int
        callback_key: str
        error: str | None

        def apply(self, job: Job) -> None:
            job.results[str(self.index)] = [FAILED, None, self.error]
            job.callback_keys[self.callback_key] = str(self.index)
            job.failed_items += 1
            job.last_progress_at = self.timestamp

    class Finished(Aggregate.Event):
        status: str
        succeeded: int
        failed: int

        def apply(self, job: Job) -> None:
            job.status = self.status
            job.finished_at = self.timestamp

    class Stalled(Aggregate.Event):
        last_progress_at: datetime

        def apply(self, job: Job) -> None:
            job.status = FAILED
            job.reason = STALLED
            job.finished_at = self.timestamp

    class Canceled(Aggregate.Event):
        reason: str

        def apply(self, job: Job) -> None:
            job.status = CANCELED
            job.reason = self.reason
            job.finished_at = self.timestamp

    def __init__(
        self,
        user_id: UUID,
        preset: str,
        item_count: int,
        cost_per_item: int,
        reserved: int,
    ) -> None:
        self.user_id = user_id
        self.preset = preset
        self.item_count = item_count
        self.cost_per_item = cost_per_item
        self.reserved = reserved
        self.status = CREATED
        self.reason: str | None = None
        self.results: dict[str, list[Any]] = {}
        self.callback_keys: dict[str, str] = {}
        self.done_items = 0
        self.failed_items = 0
        self.uploaded_at: datetime | None = None
        self.queued_at: datetime | None = None
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.last_progress_at: datetime | None = None

    @classmethod
    def create(
        cls,
        job_id: UUID,
        user_id: UUID,
        preset: str,
        item_count: int,
        cost_per_item: int,
    ) -> Job:
        """A new job of ``item_count`` items, reserving cost × items."""
        require_text("preset", preset)
        require_count("item_count", item_count, minimum=1)
        require_count("cost_per_item", cost_per_item, minimum=0)
        return cls._create(
            cls.Created,
            id=job_id,
            user_id=user_id,
            preset=preset,
            item_count=item_count,
            cost_per_item=cost_per_item,
            reserved=cost_per_item * item_count,
        )

    @property
    def created_at(self) -> datetime:
        return self.created_on

    @property
    def upload_keys(self) -> list[str]:
        """Where each item is uploaded: derived, so that events and snapshots stay small."""
        return [upload_key(self.user_id, self.id, index) for index in range(self.item_count)]

    @property
    def total_items(self) -> int:
        return self.item_count

    @property
    def reported_items(self) -> int:
        return self.done_items + self.failed_items

    @property
    def consumed_credits(self) -> int:
        """Credits the job spends: cost × succeeded items, nothing if it failed or was canceled."""
        if self.status in (FAILED, CANCELED):
            return 0
        return self.cost_per_item * self.done_items

    def confirm_upload(self) -> None:
        """Mark every item uploaded."""
        self._require_status("confirm_upload", CREATED)
        self.trigger_event(self.UploadConfirmed)

    def execute(self) -> None:
        """Queue the uploaded job for the workers."""
        self._require_status("execute", UPLOADED)
        self.trigger_event(self.Queued)

    def cancel(self, reason: str) -> None:
        """Cancel a job that has not finished."""
        require_text("reason", reason)
        self._require_status("cancel", *CANCELABLE)
        self.trigger_event(self.Canceled, reason=reason.strip())

    def record_item_result(
        self,
        index: int,
        outcome: str,
        callback_key: str,
        result_key: str | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        """Record a worker's result for item ``index``, once per ``callback_key``."""
        require_count("index", index, minimum=0)
        if index >= self.item_count:
            raise InvalidCommand(f"index {index} is out of range for {self.item_count} items")
        if outcome not in OUTCOMES:
            raise InvalidCommand(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
        require_text("callback_key", callback_key)
        if result_key is not None:
            require_text("result_key", result_key, longest=MAX_KEY)
        if error is not None and not isinstance(error, str):
            raise InvalidCommand("error must be a string or null")
        if callback_key in self.callback_keys:
            return self._recorded_answer(callback_key, index, outcome)
        if self.status == CANCELED:
            return {"item_index": index, "outcome": outcome, "status": "ignored"}
        self._require_status("record_item_result", QUEUED, RUNNING)
        first = self.results.get(str(index))
        if first is not None:
            return {"item_index": index, "outcome": first[0], "status": "already_reported"}
        if self.status == QUEUED:
            self.trigger_event(self.Started)
        if outcome == SUCCEEDED:
            self.trigger_event(
                self.ItemSucceeded, index=index, callback_key=callback_key, result_key=result_key
            )
        else:
            # A worker's error text is kept per item: bounded, so that 10,000 stay compact.
            error = error[:MAX_ERROR] if error is not None else None
            self.trigger_event(self.ItemFailed, index=index, callback_key=callback_key, error=error)
        if self.reported_items == self.item_count:
            self.trigger_event(
                self.Finished,
                status=DONE if self.done_items else FAILED,
                succeeded=self.done_items,
                failed=self.failed_items,
            )
        return self._recorded_answer(callback_key, index, outcome)

    def fail_item(self, index: int, reason: str, callback_key: str) -> dict[str, Any]:
        """Record item ``index`` as failed (a worker gave up, or its lease expired too often)."""
        return self.record_item_result(index, FAILED, callback_key, error=reason)

    def expire_upload(self) -> bool:
        """Cancel the job if it is still waiting for its upload; whether it did."""
        if self.status != CREATED:
            return False
        self.trigger_event(self.Canceled, reason=UPLOAD_DEADLINE_PASSED)
        return True

    def expire_stalled(self, last_progress_before: datetime) -> bool:
        """Fail a running job whose last progress is not after the given time; whether it did."""
        if not isinstance(last_progress_before, datetime) or last_progress_before.tzinfo is None:
            raise InvalidCommand("last_progress_before must be a timezone-aware datetime")
        if self.status != RUNNING or self.last_progress_at is None:
            return False
        if self.last_progress_at > last_progress_before:
            return False
        self.trigger_event(self.Stalled, last_progress_at=self.last_progress_at)
        return True

    def view(self) -> dict[str, Any]:
        """The job as the client sees it."""
        return {
            "job_id": str(self.id),
            "user_id": str(self.user_id),
            "preset": self.preset,
            "status": self.status,
            "reason": self.reason,
            "progress": {
                "done": self.done_items,
                "failed": self.failed_items,
                "total": self.item_count,
            },
            **{name: _iso(getattr(self, name)) for name in TIMESTAMPS},
            "reserved": self.reserved,
            "consumed": self.consumed_credits,
            "version": self.version,
        }

    def _recorded_answer(self, callback_key: str, index: int, outcome: str) -> dict[str, Any]:
        recorded_index = int(self.callback_keys[callback_key])
        recorded_outcome = self.results[str(recorded_index)][0]
        if (recorded_index, recorded_outcome) != (index, outcome):
            raise IdempotencyKeyReused(
                f"callback key {callback_key!r} was used for item {recorded_index} "
                f"({recorded_outcome}), not item {index} ({outcome})"
            )
        return {"item_index": recorded_index, "outcome": recorded_outcome, "status": "recorded"}

    def _require_status(self, action: str, *allowed: str) -> None:
        if self.status not in allowed:
            needed = " or ".join(repr(s) for s in allowed)
            raise IllegalTransition(f"job {self.id} is {self.status!r}; {action} needs {needed}")


def upload_key(user_id: UUID, job_id: UUID, index: int) -> str:
    """The object key of item ``index`` of a job: under the user and the job."""
    return f"uploads/{user_id}/{job_id}/{index}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
