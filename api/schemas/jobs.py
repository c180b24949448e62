"""Schemas of presets, jobs and the worker API, and how jobs are presented to clients.

Names over HTTP that differ from the domain's, kept for the contract: a callback's
``idempotency_key`` is the job's ``callback_key``; an upload's ``key`` and a lease's
``object_key`` are the item's upload key; ``progress.done`` counts succeeded items.
"""

from datetime import datetime
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from api.schemas.base import RequestBody
from api.schemas.errors import ErrorDetail
from domain.checks import MAX_PRESET_ID
from domain.commands.job import JobAndCredits, RecordItemResult
from domain.job import MAX_CALLBACK_KEY, MAX_ERROR_REPORTED, MAX_ITEMS, MAX_KEY, Job
from domain.jobstatus import ItemOutcome, ItemReport


class PresetView(BaseModel):
    id: str
    name: str
    credit_cost: int = Field(description="Credits per item.")
    max_items: int
    content_type: str = Field(description="The Content-Type every upload of this preset uses.")


class JobCreate(RequestBody):
    preset: str = Field(min_length=1, max_length=MAX_PRESET_ID)
    item_count: int = Field(ge=1, le=MAX_ITEMS, description="Checked against the preset's max.")


class Upload(BaseModel):
    index: int
    key: str
    url: str = Field(description="HTTP PUT the item here, with the preset's Content-Type.")


class Progress(BaseModel):
    done: int = Field(description="Items that succeeded (the same as `succeeded`).")
    succeeded: int = Field(description="Items that succeeded.")
    failed: int
    total: int

    @model_validator(mode="before")
    @classmethod
    def _succeeded_is_done(cls, data: Any) -> Any:
        # Answers stored for idempotent repeats before `succeeded` existed carry `done` only.
        if isinstance(data, dict) and "succeeded" not in data and "done" in data:
            return {**data, "succeeded": data["done"]}
        return data

    @staticmethod
    def present(succeeded: int, failed: int, total: int) -> dict[str, int]:
        return {"done": succeeded, "succeeded": succeeded, "failed": failed, "total": total}


class JobCreated(BaseModel):
    job_id: UUID
    status: str
    preset: str
    reserved: int
    content_type: str
    upload_expires_in: int = Field(description="Seconds the upload URLs stay valid.")
    uploads: list[Upload]
    position: int | None

    @staticmethod
    def present(created: JobAndCredits) -> dict[str, Any]:
        """What the route needs of the new job to answer (and an idempotent repeat gets)."""
        return {**JobChanged.present(created.job), "reserved": created.job.reserved}


class JobChanged(BaseModel):
    """A command's answer on a job: its state after the command and its log position."""

    job_id: UUID
    status: str
    reason: str | None
    progress: Progress
    position: int | None

    @staticmethod
    def present(changed: Job | JobAndCredits) -> dict[str, Any]:
        """The answer's fields besides the position, JSON-ready."""
        job = changed.job if isinstance(changed, JobAndCredits) else changed
        return {
            "job_id": str(job.id),
            "status": str(job.status),
            "reason": job.reason,
            "progress": Progress.present(job.succeeded_items, job.failed_items, job.item_count),
        }


class JobItem(BaseModel):
    item_index: int
    index: int = Field(deprecated=True, description="Deprecated: the same as `item_index`.")
    outcome: str
    result_key: str | None
    error: str | None
    reported_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _index_is_item_index(cls, data: Any) -> Any:
        if isinstance(data, dict) and "index" not in data and "item_index" in data:
            return {**data, "index": data["item_index"]}
        return data


class JobSummary(BaseModel):
    job_id: UUID
    preset: str
    status: str
    reason: str | None
    progress: Progress
    reserved: int
    consumed: int
    settlement: Literal["held", "committed", "rolled_back", "none"] = Field(
        description="The job's reserved credits: held until the job ends and they are "
        "committed (what succeeded is spent, the rest refunded) or rolled back (all refunded); "
        "none if it reserved nothing. `GET /jobs/{id}?settled=true` waits for it."
    )
    created_at: datetime
    uploaded_at: datetime | None
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "JobSummary":
        """A ``jobs_log`` row as the client sees it."""
        counts = Progress.present(row["succeeded_items"], row["failed_items"], row["item_count"])
        return cls(**row, progress=Progress(**counts))


class JobDetail(JobSummary):
    items: list[JobItem] = Field(description="Reported items from `item_offset`, by index.")


class JobPage(BaseModel):
    jobs: list[JobSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class LeaseRequest(RequestBody):
    max_items: int = Field(default=1, ge=1, le=100)
    lease_seconds: int | None = Field(default=None, ge=1, le=3600)


class LeasedItem(BaseModel):
    job_id: UUID
    item_index: int
    attempt: int
    lease_expires_at: datetime
    object_key: str
    download_url: str
    result_key: str
    result_upload_url: str = Field(description="HTTP PUT the result here (application/json).")


class Leases(BaseModel):
    items: list[LeasedItem]


class Callback(RequestBody):
    item_index: int = Field(ge=0)
    outcome: Literal["succeeded", "failed"]
    result_key: str | None = Field(default=None, max_length=MAX_KEY)
    error: str | None = Field(default=None, max_length=MAX_ERROR_REPORTED)
    idempotency_key: str = Field(min_length=1, max_length=MAX_CALLBACK_KEY)

    def command(self, job_id: UUID) -> RecordItemResult:
        """The use case this report asks for: ``idempotency_key`` is the job's callback key."""
        return RecordItemResult(
            job_id,
            self.item_index,
            ItemOutcome(self.outcome),
            callback_key=self.idempotency_key,
            result_key=self.result_key,
            error=self.error,
        )


class CallbackAnswer(BaseModel):
    job_id: UUID
    item_index: int
    outcome: str
    status: Literal["recorded", "already_reported", "ignored"]
    position: int | None

    @staticmethod
    def present(report: ItemReport) -> dict[str, Any]:
        """The answer's fields besides the position, JSON-ready."""
        return {
            "job_id": str(report.job_id),
            "item_index": report.item_index,
            "outcome": str(report.outcome),
            "status": str(report.status),
        }


class CallbackBatch(RequestBody):
    items: list[Callback] = Field(
        min_length=1,
        description="Item reports, each as `POST /jobs/{id}/callback` takes it; at most "
        "`CHRONICLE_CALLBACK_BATCH_MAX`, each `idempotency_key` once.",
    )

    @model_validator(mode="after")
    def _keys_once(self) -> Self:
        keys = [item.idempotency_key for item in self.items]
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        if repeated:
            raise ValueError(f"idempotency_key repeated in one request: {', '.join(repeated)}")
        return self


class CallbackItemAnswer(BaseModel):
    """One item's answer: what `POST /jobs/{id}/callback` answers for it, and with which status."""

    idempotency_key: str
    status_code: int = Field(description="The single-item route's HTTP status for this item.")
    answer: CallbackAnswer | None = Field(default=None, description="With 200: its answer.")
    error: ErrorDetail | None = Field(default=None, description="Otherwise: its error.")


class CallbackBatchAnswer(BaseModel):
    answers: list[CallbackItemAnswer] = Field(description="One per item, in request order.")
