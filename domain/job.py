"""Job (the JobCoordinator Durable Object): ``created → uploaded → queued → running → done |
failed | canceled``, each item's result counted once, whatever the duplicates."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.base import Aggregate
from domain.checks import MAX_PRESET_ID, require_aware, require_count, require_text
from domain.errors import IdempotencyKeyReused, IllegalTransition
from domain.jobstatus import (
    CANCELABLE,
    EXECUTE_DEADLINE_PASSED,
    FINAL,
    MAX_ERROR,
    QUEUE_DEADLINE_PASSED,
    STALLED,
    UPLOAD_DEADLINE_PASSED,
    ItemOutcome,
    ItemReport,
    JobStatus,
    ReportStatus,
    check_report,
    upload_key,
)

MAX_ITEMS = 100_000  # items of one job (a preset may allow fewer)


class Job(Aggregate):
    """A GPU job: ``item_count`` uploads, processed by workers, reported item by item."""

    snapshot_interval = 1000
    class_version = 2  # of snapshots: v1 called succeeded_items "done_items"

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["succeeded_items"] = state.pop("done_items")

    class Created(Aggregate.Created):
        user_id: UUID
        preset: str
        item_count: int
        cost_per_item: int
        reserved: int

    class UploadConfirmed(Aggregate.Event):
        def apply(self, job: Job) -> None:
            job.status = JobStatus.UPLOADED
            job.uploaded_at = self.timestamp

    class Queued(Aggregate.Event):
        def apply(self, job: Job) -> None:
            job.status = JobStatus.QUEUED
            job.queued_at = self.timestamp

    class Started(Aggregate.Event):
        def apply(self, job: Job) -> None:
            job.status = JobStatus.RUNNING
            job.started_at = self.timestamp
            job.last_progress_at = self.timestamp

    class ItemSucceeded(Aggregate.Event):
        class_version = 2  # v1 called item_index "index"

        item_index: int
        callback_key: str
        result_key: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["item_index"] = state.pop("index")

        def apply(self, job: Job) -> None:
            job.results[str(self.item_index)] = [ItemOutcome.SUCCEEDED, self.result_key, None]
            job.callback_keys[self.callback_key] = str(self.item_index)
            job.succeeded_items += 1
            job.last_progress_at = self.timestamp

    class ItemFailed(Aggregate.Event):
        class_version = 2  # v1 called item_index "index"

        item_index: int
        callback_key: str
        error: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["item_index"] = state.pop("index")

        def apply(self, job: Job) -> None:
            job.results[str(self.item_index)] = [ItemOutcome.FAILED, None, self.error]
            job.callback_keys[self.callback_key] = str(self.item_index)
            job.failed_items += 1
            job.last_progress_at = self.timestamp

    class Finished(Aggregate.Event):
        status: str
        succeeded: int
        failed: int

        def apply(self, job: Job) -> None:
            job.status = JobStatus(self.status)
            job.finished_at = self.timestamp

    class Stalled(Aggregate.Event):
        last_progress_at: datetime

        def apply(self, job: Job) -> None:
            job.status = JobStatus.FAILED
            job.reason = STALLED
            job.finished_at = self.timestamp

    class Canceled(Aggregate.Event):
        reason: str

        def apply(self, job: Job) -> None:
            job.status = JobStatus.CANCELED
            job.reason = self.reason
            job.finished_at = self.timestamp

    def __init__(
        self, user_id: UUID, preset: str, item_count: int, cost_per_item: int, reserved: int
    ) -> None:
        self.user_id = user_id
        self.preset = preset
        self.item_count = item_count
        self.cost_per_item = cost_per_item
        self.reserved = reserved
        self.status = JobStatus.CREATED
        self.reason: str | None = None
        # item index (str, a JSON key) -> [outcome, result_key, error]; callback_key -> index
        self.results: dict[str, list[Any]] = {}
        self.callback_keys: dict[str, str] = {}
        self.succeeded_items = 0
        self.failed_items = 0
        self.uploaded_at: datetime | None = None
        self.queued_at: datetime | None = None
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.last_progress_at: datetime | None = None

    @classmethod
    def create(
        cls, job_id: UUID, user_id: UUID, preset: str, item_count: int, cost_per_item: int
    ) -> Job:
        """A new job of ``item_count`` items, reserving cost × items."""
        require_text("preset", preset, longest=MAX_PRESET_ID)
        require_count("item_count", item_count, minimum=1, maximum=MAX_ITEMS)
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
        return [upload_key(self.user_id, self.id, i) for i in range(self.item_count)]

    @property
    def total_items(self) -> int:
        return self.item_count

    @property
    def reported_items(self) -> int:
        return self.succeeded_items + self.failed_items

    @property
    def ended(self) -> bool:
        """Whether the job reached a final status."""
        return self.status in FINAL

    @property
    def consumed_credits(self) -> int:
        """Credits the job spends: cost × succeeded items, nothing if it failed or was canceled."""
        if self.status in (JobStatus.FAILED, JobStatus.CANCELED):
            return 0
        return self.cost_per_item * self.succeeded_items

    def confirm_upload(self) -> None:
        """Mark every item uploaded."""
        self._require_status("confirm_upload", JobStatus.CREATED)
        self.trigger_event(self.UploadConfirmed)

    def execute(self) -> None:
        """Queue the uploaded job for the workers."""
        self._require_status("execute", JobStatus.UPLOADED)
        self.trigger_event(self.Queued)

    def cancel(self, reason: str) -> None:
        """Cancel a job that has not finished."""
        require_text("reason", reason)
        self._require_status("cancel", *CANCELABLE)
        self.trigger_event(self.Canceled, reason=reason.strip())

    def record_item_result(
        self,
        item_index: int,
        outcome: str,
        callback_key: str,
        result_key: str | None = None,
        error: str | None = None,
    ) -> ItemReport:
        """Record a worker's result for item ``item_index``, once per ``callback_key``."""
        report = (item_index, outcome, callback_key, result_key, error)
        outcome = check_report(self.item_count, *report)
        if callback_key in self.callback_keys:
            return self._recorded_answer(callback_key, item_index, outcome)
        if self.status == JobStatus.CANCELED:
            return ItemReport(self.id, item_index, outcome, ReportStatus.IGNORED)
        self._require_status("record_item_result", JobStatus.QUEUED, JobStatus.RUNNING)
        first = self.results.get(str(item_index))
        if first is not None:
            return ItemReport(
                self.id, item_index, ItemOutcome(first[0]), ReportStatus.ALREADY_REPORTED
            )
        if self.status == JobStatus.QUEUED:
            self.trigger_event(self.Started)
        if outcome == ItemOutcome.SUCCEEDED:
            self.trigger_event(
                self.ItemSucceeded,
                item_index=item_index,
                callback_key=callback_key,
                result_key=result_key,
            )
        else:
            error = error[:MAX_ERROR] if error is not None else None  # kept compact
            self.trigger_event(
                self.ItemFailed, item_index=item_index, callback_key=callback_key, error=error
            )
        if self.reported_items == self.item_count:
            self.trigger_event(
                self.Finished,
                status=JobStatus.DONE if self.succeeded_items else JobStatus.FAILED,
                succeeded=self.succeeded_items,
                failed=self.failed_items,
            )
        return self._recorded_answer(callback_key, item_index, outcome)

    def fail_item(self, item_index: int, reason: str, callback_key: str) -> ItemReport:
        """Record an item as failed (a worker gave up, or its lease expired too often)."""
        return self.record_item_result(item_index, ItemOutcome.FAILED, callback_key, error=reason)

    def expire_upload(self) -> bool:
        """Cancel the job if it is still waiting for its upload; whether it did."""
        if self.status != JobStatus.CREATED:
            return False
        self.trigger_event(self.Canceled, reason=UPLOAD_DEADLINE_PASSED)
        return True

    def expire_unstarted(self, before: datetime) -> bool:
        """Cancel a job uploaded or queued (never started) since ``before``; whether it did."""
        require_aware("before", before)
        if self.status == JobStatus.UPLOADED and self.uploaded_at and self.uploaded_at <= before:
            reason = EXECUTE_DEADLINE_PASSED
        elif self.status == JobStatus.QUEUED and self.queued_at and self.queued_at <= before:
            reason = QUEUE_DEADLINE_PASSED
        else:
            return False
        self.trigger_event(self.Canceled, reason=reason)
        return True

    def expire_stalled(self, last_progress_before: datetime) -> bool:
        """Fail a running job whose last progress is not after the given time; whether it did."""
        require_aware("last_progress_before", last_progress_before)
        last = self.last_progress_at
        if self.status != JobStatus.RUNNING or last is None or last > last_progress_before:
            return False
        self.trigger_event(self.Stalled, last_progress_at=self.last_progress_at)
        return True

    def _recorded_answer(self, callback_key: str, index: int, outcome: ItemOutcome) -> ItemReport:
        recorded_index = int(self.callback_keys[callback_key])
        recorded_outcome = ItemOutcome(self.results[str(recorded_index)][0])
        if (recorded_index, recorded_outcome) != (index, outcome):
            raise IdempotencyKeyReused(
                f"callback key {callback_key!r} was used for item {recorded_index} "
                f"({recorded_outcome}), not item {index} ({outcome})"
            )
        return ItemReport(self.id, recorded_index, recorded_outcome, ReportStatus.RECORDED)

    def _require_status(self, action: str, *allowed: JobStatus) -> None:
        if self.status not in allowed:
            needed = " or ".join(repr(str(s)) for s in allowed)
            raise IllegalTransition(
                f"job {self.id} is {str(self.status)!r}; {action} needs {needed}"
            )
