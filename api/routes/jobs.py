"""A user's GPU jobs: create with upload URLs, confirm the upload, execute, cancel, read."""

import base64
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import (
    Command,
    MinPosition,
    ServicesDep,
    UserPrincipal,
    find_or_not_found,
    user_id_of,
    wait_for,
)
from api.schemas.jobs import (
    JobChanged,
    JobCreate,
    JobCreated,
    JobDetail,
    JobPage,
    JobSummary,
    Upload,
)
from domain.commands import job as jobs
from domain.errors import InvalidCommand, UploadsMissing
from domain.job import upload_key
from projections.queries import get_job, list_job_items, list_jobs

router = APIRouter(prefix="/jobs", tags=["jobs"])
READ_MODELS = ["jobs"]


@router.post("", response_model=JobCreated, status_code=201)
def create_job(
    body: JobCreate, principal: UserPrincipal, command: Command, services: ServicesDep
) -> JobCreated:
    """Reserve the credits and create the job in one step; answer with one upload URL per item."""
    preset = services.presets.get(body.preset)
    preset.check_items(body.item_count)
    user_id, job_id = user_id_of(principal), uuid.uuid4()
    outcome = command.run(
        services, jobs.create_job(job_id, user_id, preset.id, body.item_count, preset.credit_cost)
    )
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
    keys = command.run(services, jobs.get_upload_keys(job_id, user_id)).result["upload_keys"]
    missing = services.object_store.missing(keys)
    if missing:
        shown = ", ".join(missing[:20]) + (", …" if len(missing) > 20 else "")
        raise UploadsMissing(f"{len(missing)} of {len(keys)} uploads are missing: {shown}")
    return _changed(command.run(services, jobs.confirm_upload(job_id, user_id)))


@router.post("/{job_id}/execute", response_model=JobChanged)
def execute_job(
    job_id: uuid.UUID, principal: UserPrincipal, command: Command, services: ServicesDep
) -> JobChanged:
    """Queue the uploaded job: workers can lease its items from now on."""
    return _changed(command.run(services, jobs.execute_job(job_id, user_id_of(principal))))


@router.post("/{job_id}/cancel", response_model=JobChanged)
def cancel_job(
    job_id: uuid.UUID, principal: UserPrincipal, command: Command, services: ServicesDep
) -> JobChanged:
    """Cancel a job that has not finished; its reservation is refunded."""
    run = jobs.cancel_job(job_id, user_id_of(principal), "canceled by the user")
    return _changed(command.run(services, run))


@router.get("/{job_id}", response_model=JobDetail)
def get_job_detail(
    job_id: uuid.UUID,
    principal: UserPrincipal,
    services: ServicesDep,
    min_position: MinPosition = None,
    item_offset: Annotated[int, Query(ge=0, description="First item index listed.")] = 0,
    item_limit: Annotated[int, Query(ge=0, le=10_000)] = 1000,
) -> JobDetail:
    """Status, progress, per-item results and timestamps of one of the caller's jobs."""
    wait_for(services, READ_MODELS, min_position)
    user_id = user_id_of(principal)
    row = find_or_not_found(
        services, READ_MODELS, lambda: get_job(services.reads, job_id, user_id), f"job {job_id}"
    )
    items = list_job_items(services.reads, job_id, offset=item_offset, limit=item_limit)
    return JobDetail(**_summary(row).model_dump(), items=items)


@router.get("", response_model=JobPage)
def list_my_jobs(
    principal: UserPrincipal,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    min_position: MinPosition = None,
) -> JobPage:
    """The caller's jobs, newest first."""
    wait_for(services, READ_MODELS, min_position)
    rows = list_jobs(services.reads, user_id_of(principal), limit=limit, after=_decode(cursor))
    next_cursor = _encode(rows[-1]) if len(rows) == limit else None
    return JobPage(jobs=[_summary(r) for r in rows], next_cursor=next_cursor)


def _summary(row: dict[str, Any]) -> JobSummary:
    progress = {
        "done": row["done_items"],
        "failed": row["failed_items"],
        "total": row["item_count"],
    }
    return JobSummary(**row, progress=progress)


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
