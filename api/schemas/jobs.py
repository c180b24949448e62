"""Schemas of presets, jobs and the worker API."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field


class PresetView(BaseModel):
    id: str
    name: str
    credit_cost: int = Field(description="Credits per item.")
    max_items: int
    content_type: str = Field(description="The Content-Type every upload of this preset uses.")


class JobCreate(BaseModel):
    preset: str = Field(min_length=1, max_length=100)
    item_count: int = Field(ge=1, le=100_000, description="Checked against the preset's max.")


class Upload(BaseModel):
    index: int
    key: str
    url: str = Field(description="HTTP PUT the item here, with the preset's Content-Type.")


class Progress(BaseModel):
    done: int
    failed: int
    total: int


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


class JobItem(BaseModel):
    index: int
    outcome: str
    result_key: str | None
    error: str | None
    reported_at: datetime


class JobSummary(BaseModel):
    job_id: UUID
    preset: str
    status: str
    reason: str | None
    progress: Progress
    reserved: int
    consumed: int
    created_at: datetime
    uploaded_at: datetime | None
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime


class JobDetail(JobSummary):
    items: list[JobItem] = Field(description="Reported items from `item_offset`, by index.")


class JobPage(BaseModel):
    jobs: list[JobSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


class LeaseRequest(BaseModel):
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


class Callback(BaseModel):
    item_index: int = Field(ge=0)
    outcome: Literal["succeeded", "failed"]
    result_key: str | None = Field(default=None, max_length=1024)
    error: str | None = Field(default=None, max_length=10_000)
    idempotency_key: str = Field(min_length=1, max_length=200)


class CallbackAnswer(BaseModel):
    job_id: UUID
    item_index: int
    outcome: str
    status: Literal["recorded", "already_reported", "ignored"]
    position: int | None
