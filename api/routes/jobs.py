"""A user's GPU jobs: create with upload URLs, confirm the upload, execute, cancel, read."""

import base64
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import (
    Command,
    ObjectStoreDep,
    PresetsDep,
    QuotasDep,
    SettingsDep,
    UserPrincipal,
    in_thread,
    user_id_of,
)
from api.reads import BIGINT_MAX, Reads, ReadsDep, caught_up
from api.schemas.jobs import (
    JobChanged,
    JobCreate,
    JobCreated,
    JobDetail,
    JobItem,
    JobPage,
    JobSummary,
    Upload,
)
from domain.commands.job import CancelJob, ConfirmUpload, CreateJob, ExecuteJob
from domain.errors import InvalidCommand, ProjectionBehind
from domain.jobstatus import FINAL, upload_key
from projections.jobs.queries import get_job, list_job_items, list_jobs

router = APIRouter(prefix="/jobs", tags=["jobs"])
READ_MODELS = ["jobs"]
MinPosition = Annotated[int | None, caught_up(*READ_MODELS)]
SETTLING = ["job_settlement"]  # the saga that settles an ended job's credits
CREDITS = ["user_summary", "credit_ledger"]  # where a settlement shows besides the job
HELD = "held"  # jobs_log.settlement until the reservation is committed or rolled back


@router.post("", response_model=JobCreated, status_code=201)
@in_thread
def create_job(
    body: JobCreate,
    principal: UserPrincipal,
    command: Command,
    presets: PresetsDep,
    quotas: QuotasDep,
    store: ObjectStoreDep,
    settings: SettingsDep,
) -> JobCreated:
    """Reserve the credits and create the job in one step (counted against the plan's daily
    quota of jobs: 429 quota_exceeded past it); answer with one upload URL per item."""
    user_id = user_id_of(principal)
    create = CreateJob(uuid.uuid4(), user_id, body.preset, body.item_count, presets, quotas)
    outcome = command.run(create)
    job = JobChanged.from_outcome(outcome)  # a replayed key answers with the first job
    # An answer stored before outcomes were names no preset: it is the one asked for.
    preset = presets.get(outcome.record.get("preset", body.preset))
    expires = settings.upload_url_seconds
    keys = [upload_key(user_id, job.job_id, i) for i in range(job.progress.total)]
    uploads = [
        Upload(index=i, key=key, url=store.presign_put(key, preset.content_type, expires))
        for i, key in enumerate(keys)
    ]
    return JobCreated(
        job_id=job.job_id,
        status=job.status,
        preset=preset.id,
        reserved=outcome.record["reserved"],
        content_type=preset.content_type,
        upload_expires_in=expires,
        uploads=uploads,
        position=outcome.position,
    )


@router.post("/{job_id}/confirm-upload", response_model=JobChanged)
def confirm_upload(
    job_id: uuid.UUID, principal: UserPrincipal, command: Command, store: ObjectStoreDep
) -> JobChanged:
    """Check every item is in storage, then mark the job uploaded."""
    return JobChanged.from_outcome(command.run(ConfirmUpload(job_id, user_id_of(principal), store)))


@router.post("/{job_id}/execute", response_model=JobChanged)
def execute_job(job_id: uuid.UUID, principal: UserPrincipal, command: Command) -> JobChanged:
    """Queue the uploaded job: workers can lease its items from now on."""
    return JobChanged.from_outcome(command.run(ExecuteJob(job_id, user_id_of(principal))))


@router.post("/{job_id}/cancel", response_model=JobChanged)
def cancel_job(job_id: uuid.UUID, principal: UserPrincipal, command: Command) -> JobChanged:
    """Cancel a job that has not finished; its reservation is refunded."""
    run = CancelJob(job_id, user_id_of(principal), "canceled by the user")
    return JobChanged.from_outcome(command.run(run))


@router.get("/{job_id}", response_model=JobDetail)
@in_thread
def get_job_detail(
    job_id: uuid.UUID,
    principal: UserPrincipal,
    reads: ReadsDep,
    min_position: MinPosition = None,
    item_offset: Annotated[
        int, Query(ge=0, le=BIGINT_MAX, description="First item index listed.")
    ] = 0,
    item_limit: Annotated[int, Query(ge=0, le=10_000)] = 1000,
    settled: Annotated[
        bool,
        Query(
            description="For a job that ended, answer once its credits are settled and `/me` "
            "shows it (503 if not within the read wait)."
        ),
    ] = False,
) -> JobDetail:
    """Status, progress, settlement, per-item results and timestamps of one of the caller's jobs."""
    user_id = user_id_of(principal)

    def find() -> dict[str, Any] | None:
        return get_job(reads.pool, job_id, user_id)

    row = reads.find_or_not_found(READ_MODELS, find, f"job {job_id}")
    if settled:
        row = _once_settled(reads, find)
    items = list_job_items(reads.pool, job_id, offset=item_offset, limit=item_limit)
    return JobDetail(**_summary(row).model_dump(), items=[JobItem(**i) for i in items])


@router.get("", response_model=JobPage)
def list_my_jobs(
    principal: UserPrincipal,
    reads: ReadsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    min_position: MinPosition = None,
) -> JobPage:
    """The caller's jobs, newest first."""
    rows = list_jobs(reads.pool, user_id_of(principal), limit=limit, after=_decode(cursor))
    next_cursor = _encode(rows[-1]) if len(rows) == limit else None
    return JobPage(jobs=[_summary(r) for r in rows], next_cursor=next_cursor)


def _once_settled(reads: Reads, find: Callable[[], Any]) -> dict[str, Any]:
    """The job as of the log head; if it ended, once its settlement shows here and in `/me`."""
    deadline = time.monotonic() + reads.wait_seconds

    def reached(names: list[str], position: int) -> bool:
        remaining = max(0.0, deadline - time.monotonic())
        return reads.watcher.wait_for_position(names, position, remaining)

    reached(READ_MODELS, reads.head())
    row = find()
    if row["status"] in FINAL and row["settlement"] == HELD:
        # The saga settles a job once it reads its end: once it is past the log head, the
        # settlement is in the log, and once the jobs projection is past the new head, here.
        reached(SETTLING, reads.head())
        reached(READ_MODELS, reads.head())
        row = find()
    if row["status"] in FINAL and row["settlement"] == HELD:
        raise ProjectionBehind(f"the credits of job {row['job_id']} are not settled yet; retry")
    settled_at = row["settled_position"]
    if settled_at and not reached(CREDITS, settled_at):
        raise ProjectionBehind(
            f"{', '.join(CREDITS)} did not reach the settlement of job {row['job_id']} "
            f"(log position {settled_at}) in time; retry shortly"
        )
    return row


def _summary(row: dict[str, Any]) -> JobSummary:
    return JobSummary.from_row(row)


def _encode(row: dict[str, Any]) -> str:
    raw = f"{row['created_at'].isoformat()}|{row['job_id']}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _decode(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        created_at, job_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(created_at), uuid.UUID(job_id)
    except ValueError:
        raise InvalidCommand("cursor is not a cursor this API returned") from None
