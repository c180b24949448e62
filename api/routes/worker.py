"""The GPU worker API: lease queued items, report each item's result."""

import hashlib
import uuid
from dataclasses import replace

from fastapi import APIRouter

from api.deps import Command, ServicesDep, WorkerPrincipal
from api.schemas.jobs import Callback, CallbackAnswer, LeasedItem, LeaseRequest, Leases
from domain.commands import job as jobs
from eventstore.idempotency import Idempotency
from projections.jobqueue import lease

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
        result_key = f"results/{row['user_id']}/{row['job_id']}/{row['item_index']}"
        items.append(
            LeasedItem(
                job_id=row["job_id"],
                item_index=row["item_index"],
                attempt=row["attempts"],
                lease_expires_at=row["lease_expires_at"],
                object_key=row["upload_key"],
                download_url=services.object_store.presign_get(row["upload_key"], seconds),
                result_key=result_key,
                result_upload_url=services.object_store.presign_put(
                    result_key, RESULT_CONTENT_TYPE, seconds
                ),
            )
        )
    return Leases(items=items)


@router.post("/jobs/{job_id}/callback", response_model=CallbackAnswer)
def report_item(
    job_id: uuid.UUID, body: Callback, _: WorkerPrincipal, command: Command, services: ServicesDep
) -> CallbackAnswer:
    """Report one item's outcome; the first report of an item counts, and a repeat with the
    same `idempotency_key` changes nothing and gets the same answer. The first report moves
    a queued job to running; reports on a canceled job are acknowledged and ignored."""
    run = jobs.record_item_result(
        job_id, body.item_index, body.outcome, body.idempotency_key, body.result_key, body.error
    )
    # The key is kept twice: by the job (a repeat records nothing, whatever happens) and by
    # the executor with the first answer, so that a repeat gets that answer back, position too.
    fingerprint = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    keyed = replace(
        command, idempotency=Idempotency(f"callback:{job_id}:{body.idempotency_key}", fingerprint)
    )
    outcome = keyed.run(services, run)
    return CallbackAnswer(**outcome.result, position=outcome.position)
