"""Schemas of presets, jobs and the worker API, and how a job command's outcome is presented.

Names over HTTP that differ from the domain's, kept for the contract: a callback's
``idempotency_key`` is the job's ``callback_key`` (an alias: the code says ``callback_key``
from the request to the stored event); an upload's ``key`` and a lease's ``object_key`` are the
item's upload key; ``progress.done`` counts succeeded items.
"""

import hashlib
from datetime import datetime
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.base import RequestBody
from api.schemas.errors import ErrorDetail
from domain.checks import MAX_PRESET_ID
from domain.commands.job import RecordItemResult
from domain.job import MAX_ITEMS
from domain.jobstatus import MAX_CALLBACK_KEY, MAX_ERROR_REPORTED, MAX_KEY, ItemOutcome
from eventstore.idempotency import Idempotency
from eventstore.records import Outcome


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

    @classmethod
    def of(cls, succeeded: int, failed: int, total: int) -> Self:
        return cls(done=succeeded, succeeded=succeeded, failed=failed, total=total)


class JobCreated(BaseModel):
    job_id: UUID
    status: str
    preset: str
    reserved: int
    content_type: str
    upload_expires_in: int = Field(description="Seconds the upload URLs stay valid.")
    uploads: list[Upload]
    position: int | None


class JobChanged(BaseModel):
    """A command's answer on a job: its state after the command and its log position."""

    job_id: UUID
    status: str
    reason: str | None
    progress: Progress
    position: int | None

    @classmethod
    def from_outcome(cls, outcome: Outcome[Any]) -> Self:
        """The answer to a job command (a ``JobState``, or an answer stored as it was given)."""
        job = outcome.record
        if outcome.answered:
            return cls.model_validate({**job, "position": outcome.position})
        progress = Progress.of(job["succeeded"], job["failed"], job["total"])
        return cls(
            job_id=job["job_id"],
            status=job["status"],
            reason=job["reason"],
            progress=progress,
            position=outcome.position,
        )


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
        progress = Progress.of(row["succeeded_items"], row["failed_items"], row["item_count"])
        return cls(**row, progress=progress)


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
    model_config = ConfigDict(serialize_by_alias=True)  # idempotency_key, as the request had it

    item_index: int = Field(ge=0)
    outcome: Literal["succeeded", "failed"]
    result_key: str | None = Field(default=None, max_length=MAX_KEY)
    error: str | None = Field(default=None, max_length=MAX_ERROR_REPORTED)
    callback_key: str = Field(
        alias="idempotency_key",
        min_length=1,
        max_length=MAX_CALLBACK_KEY,
    )

    def report(self, job_id: UUID) -> RecordItemResult:
        """What the worker reports of the item."""
        return RecordItemResult(
            job_id,
            self.item_index,
            ItemOutcome(self.outcome),
            callback_key=self.callback_key,
            result_key=self.result_key,
            error=self.error,
        )

    def idempotency(self, job_id: UUID) -> Idempotency:
        """Where the first answer to this report is kept: under the job and its callback key.

        The key is kept twice: by the job (a repeat records nothing, whatever happens) and by
        the executor with the first answer, so that a repeat gets that answer back, position too.
        """
        fingerprint = hashlib.sha256(self.model_dump_json().encode()).hexdigest()
        return Idempotency(f"callback:{job_id}:{self.callback_key}", fingerprint)


class CallbackAnswer(BaseModel):
    job_id: UUID
    item_index: int
    outcome: str
    status: Literal["recorded", "already_reported", "ignored"]
    position: int | None

    @classmethod
    def from_outcome(cls, outcome: Outcome[Any]) -> Self:
        """The answer to a report (an ``ItemReport``: the same fields as the answer)."""
        return cls.model_validate({**outcome.record, "position": outcome.position})


class CallbackBatch(RequestBody):
    items: list[Callback] = Field(
        min_length=1,
        description="Item reports, each as `POST /jobs/{id}/callback` takes it; at most "
        "`CHRONICLE_CALLBACK_BATCH_MAX`, each `idempotency_key` once.",
    )

    @model_validator(mode="after")
    def _keys_once(self) -> Self:
        keys = [item.callback_key for item in self.items]
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


class JobEvent(BaseModel):
    """One event of a job (or its settlement on the user's credits), as a live stream sends it."""

    position: int = Field(description="The event's log position (the message's `id`).")
    recorded_at: datetime
    event_type: str = Field(
        description="`Job.ItemSucceeded`, … then `UserCredits.Committed` "
        "or `UserCredits.RolledBack`, the job's settlement."
    )
    version: int = Field(description="The version of its aggregate (the job, or the credits).")
    data: dict[str, Any] = Field(description="The event's own fields.")
