"""The GPU worker API: lease queued items, report each item's result."""

import hashlib
import uuid
from dataclasses import replace

from fastapi import APIRouter

from api.bootstrap import Services
from api.deps import Command, ServicesDep, WorkerPrincipal, read_aggregate
from api.schemas.jobs import Callback, CallbackAnswer, LeasedItem, LeaseRequest, Leases
from domain.errors import LeaseNotHeld
from domain.job import Job, result_key
from domain.jobstatus import JobStatus
from eventstore.idempotency import Idempotency
from projections.jobqueue import lease, lease_holder

router = APIRouter(tags=["worker"])
RESULT_CONTENT_TYPE = "application/json"


@router.post("/worker/leases", response_model=Leases)
def lease_items(body: LeaseRequest, principal: WorkerPrincipal, services: ServicesDep) -> Leases:
    """Lease up to `max_items` queued items; a lease not reported in time is offered again."""
    settings = services.settings
    seconds = body.lease_seconds or settings.lease_seconds
    rows = lease(
        services.reads,
        principal.actor,
        limit=body.max_items,
        seconds=seconds,
        max_attempts=settings.lease_max_attempts,
    )
    items = []
    for row in rows:
        result = result_key(row["user_id"], row["job_id"], row["item_index"])
        items.append(
            LeasedItem(
                job_id=row["job_id"],
                item_index=row["item_index"],
                attempt=row["attempts"],
                lease_expires_at=row["lease_expires_at"],
                object_key=row["upload_key"],
                download_url=services.object_store.presign_get(row["upload_key"], seconds),
                result_key=result,
                result_upload_url=services.object_store.presign_put(
                    result, RESULT_CONTENT_TYPE, seconds
                ),
            )
        )
    return Leases(items=items)


@router.post("/jobs/{job_id}/callback", response_model=CallbackAnswer)
def report_item(
    job_id: uuid.UUID,
    body: Callback,
    principal: WorkerPrincipal,
    command: Command,
    services: ServicesDep,
) -> CallbackAnswer:
    """Report one item's outcome, from the worker holding its lease (else 409 lease_not_held);
    the first report of an item counts, and a repeat with the same `idempotency_key` changes
    nothing and gets the same answer. The first report moves a queued job to running; reports
    on a canceled job are acknowledged and ignored."""
    if lease_holder(services.reads, job_id, body.item_index) != principal.actor:
        _require_report_changes_nothing(services, job_id, body)
    run = body.command(job_id)
    # The key is kept twice: by the job (a repeat records nothing, whatever happens) and by
    # the executor with the first answer, so that a repeat gets that answer back, position too.
    fingerprint = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    keyed = replace(
        command, idempotency=Idempotency(f"callback:{job_id}:{body.idempotency_key}", fingerprint)
    )
    outcome = keyed.run(services, run, present=CallbackAnswer.present)
    return CallbackAnswer(**outcome.result, position=outcome.position)


def _require_report_changes_nothing(services: Services, job_id: uuid.UUID, body: Callback) -> None:
    """Refuse a report from a worker without the item's lease, unless it can record nothing.

    The lease's row is gone once the item is reported or the job ended, so a repeat (a known
    key), a late report of a reported item and a report on an ended job get their usual answer.
    The job is read as last saved: the queue's rows may lag it, never lead it.
    """
    job = read_aggregate(services, Job, job_id)
    if job is None or job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        return  # the command answers: not found, ignored, or the transition it cannot make
    if body.idempotency_key in job.callback_keys or not 0 <= body.item_index < job.item_count:
        return
    if str(body.item_index) in job.results:
        return
    raise LeaseNotHeld(
        f"item {body.item_index} of job {job_id} is not leased to this worker; "
        "lease it first (POST /worker/leases)"
    )
