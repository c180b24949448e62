"""A user's GPU jobs: create with upload URLs, confirm the upload, execute, cancel, read."""

import base64
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.bootstrap import Services
from api.deps import (
    BIGINT_MAX,
    Command,
    ServicesDep,
    UserPrincipal,
    caught_up,
    find_or_not_found,
    in_thread,
    read_aggregate,
    user_id_of,
)
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
from domain.errors import InvalidCommand, NotFound, ProjectionBehind, UploadsMissing
from domain.job import Job, upload_key
from domain.jobstatus import FINAL, JobStatus
from projections.queries import get_job, list_job_items, list_jobs, log_head

router = APIRouter(prefix="/jobs", tags=["jobs"])
READ_MODELS = ["jobs"]
MinPosition = Annotated[int | None, caught_up(*READ_MODELS)]
SETTLING = ["job_settlement"]  # the saga that settles an ended job's credits
CREDITS = ["user_summary", "credit_ledger"]  # where a settlement shows besides the job
HELD = "held"  # jobs_log.settlement until the reservation is committed or rolled back


@router.post("", response_model=JobCreated, status_code=201)
@in_thread
def create_job(
    body: JobCreate, principal: UserPrincipal, command: Command, services: ServicesDep
) -> JobCreated:
    """Reserve the credits and create the job in one step; answer with one upload URL per item."""
    preset = services.presets.get(body.preset)
    preset.check_items(body.item_count)
    user_id, job_id = user_id_of(principal), uuid.uuid4()
    create = CreateJob(job_id, user_id, preset.id, body.item_count, preset.credit_cost)
    outcome = command.run(services, create, present=JobCreated.present)
    job_id = uuid.UUID(outcome.result["job_id"])  # a replayed key answers with the first job
    total = outcome.result["progress"]["total"]
    expires = services.settings.upload_url_seconds
    uploads = [
        Upload(
            index=i,
            key=key,
            url=services.object_store.presign_put(key, preset.content_type, expires),
        )
        for i, key in enumerate(upload_key(user_id, job_id, i) for i in range(total))
    ]
    return JobCreated(
        job_id=job_id,
        status=outcome.result["status"],
        preset=preset.id,
        reserved=outcome.result["reserved"],
        content_type=preset.content_type,
        upload_expires_in=expires,
        uploads=uploads,
        position=outcome.position,
    )


@router.post("/{job_id}/confirm-upload", response_model=JobChanged)
def confirm_upload(
    job_id: uuid.UUID, principal: UserPrincipal, command: Command, services: ServicesDep
) -> JobChanged:
    """Check every item is in storage, then mark the job uploaded."""
    user_id = user_id_of(principal)
    # The job as last saved, not as projected: a read, so never under the caller's key.
    job = read_aggregate(services, Job, job_id)
    if job is None or job.user_id != user_id:
        raise NotFound(f"job {job_id} not found")
    # Storage is checked only while uploads are awaited; otherwise the command answers: a
    # repeat with its first answer, anything else with the transition it cannot make.
    if job.status == JobStatus.CREATED:
        keys = job.upload_keys
        missing = services.object_store.missing(keys)
        if missing:
            shown = ", ".join(missing[:20]) + (", …" if len(missing) > 20 else "")
            raise UploadsMissing(f"{len(missing)} of {len(keys)} uploads are missing: {shown}")
    run = ConfirmUpload(job_id, user_id)
    return _changed(command.run(services, run, present=JobChanged.present))


@router.post("/{job_id}/execute", response_model=JobChanged)
def execute_job(
    job_id: uuid.UUID, principal: UserPrincipal, command: Command, services: ServicesDep
) -> JobChanged:
    """Queue the uploaded job: workers can lease its items from now on."""
    run = ExecuteJob(job_id, user_id_of(principal))
    return _changed(command.run(services, run, present=JobChanged.present))


@router.post("/{job_id}/cancel", response_model=JobChanged)
def cancel_job(
    job_id: uuid.UUID, principal: UserPrincipal, command: Command, services: ServicesDep
) -> JobChanged:
    """Cancel a job that has not finished; its reservation is refunded."""
    run = CancelJob(job_id, user_id_of(principal), "canceled by the user")
    return _changed(command.run(services, run, present=JobChanged.present))


@router.get("/{job_id}", response_model=JobDetail)
@in_thread
def get_job_detail(
    job_id: uuid.UUID,
    principal: UserPrincipal,
    services: ServicesDep,
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
        return get_job(services.reads, job_id, user_id)

    row = find_or_not_found(services, READ_MODELS, find, f"job {job_id}")
    if settled:
        row = _once_settled(services, find)
    items = list_job_items(services.reads, job_id, offset=item_offset, limit=item_limit)
    return JobDetail(**_summary(row).model_dump(), items=[JobItem(**i) for i in items])


@router.get("", response_model=JobPage)
def list_my_jobs(
    principal: UserPrincipal,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    min_position: MinPosition = None,
) -> JobPage:
    """The caller's jobs, newest first."""
    rows = list_jobs(services.reads, user_id_of(principal), limit=limit, after=_decode(cursor))
    next_cursor = _encode(rows[-1]) if len(rows) == limit else None
    return JobPage(jobs=[_summary(r) for r in rows], next_cursor=next_cursor)


def _once_settled(services: Services, find: Callable[[], Any]) -> dict[str, Any]:
    """The job as of the log head; if it ended, once its settlement shows here and in `/me`."""
    deadline = time.monotonic() + services.settings.read_wait_seconds

    def reached(names: list[str], position: int) -> bool:
        remaining = max(0.0, deadline - time.monotonic())
        return services.watcher.wait_for_position(names, position, remaining)

    reached(READ_MODELS, log_head(services.primary))
    row = find()
    if row["status"] in FINAL and row["settlement"] == HELD:
        # The saga settles a job once it reads its end: once it is past the log head, the
        # settlement is in the log, and once the jobs projection is past the new head, here.
        reached(SETTLING, log_head(services.primary))
        reached(READ_MODELS, log_head(services.primary))
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


def _changed(outcome: Any) -> JobChanged:
    return JobChanged(**outcome.result, position=outcome.position)


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
