"""The GPU worker API: lease queued items, report each item's result alone or in batches."""

import hashlib
import uuid
from dataclasses import replace
from typing import Any

from fastapi import APIRouter

from api.bootstrap import Services
from api.deps import Command, ServicesDep, WorkerPrincipal, in_thread, read_aggregate
from api.errors import STATUS
from api.schemas.errors import ErrorDetail
from api.schemas.jobs import (
    Callback,
    CallbackAnswer,
    CallbackBatch,
    CallbackBatchAnswer,
    CallbackItemAnswer,
    LeasedItem,
    LeaseRequest,
    Leases,
)
from domain.errors import ChronicleError, InvalidCommand, LeaseNotHeld
from domain.job import Job, result_key
from domain.jobstatus import JobStatus
from eventstore.idempotency import Idempotency
from eventstore.records import Outcome
from projections.jobqueue import lease, lease_holder, lease_holders

router = APIRouter(tags=["worker"])
RESULT_CONTENT_TYPE = "application/json"


@router.post("/worker/leases", response_model=Leases)
@in_thread
def lease_items(body: LeaseRequest, principal: WorkerPrincipal, services: ServicesDep) -> Leases:
    """Lease up to `max_items` queued items; a lease not reported in time is offered again."""
    settings = services.settings
    seconds = body.lease_seconds or settings.lease_seconds
    rows = lease(
        services.primary,  # a lease is a write, and the next one must see it: never a replica
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
@in_thread
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
    if lease_holder(services.primary, job_id, body.item_index) != principal.actor:
        refused = _lease_refusal(read_aggregate(services, Job, job_id), job_id, body)
        if refused is not None:
            raise refused
    keyed = replace(command, idempotency=_idempotency(job_id, body))
    outcome = keyed.run(services, body.command(job_id), present=CallbackAnswer.present)
    return CallbackAnswer(**outcome.result, position=outcome.position)


@router.post("/jobs/{job_id}/callbacks", response_model=CallbackBatchAnswer)
@in_thread
def report_items(
    job_id: uuid.UUID,
    body: CallbackBatch,
    principal: WorkerPrincipal,
    command: Command,
    services: ServicesDep,
) -> CallbackBatchAnswer:
    """Report several items' outcomes at once (at most `CHRONICLE_CALLBACK_BATCH_MAX`): each
    item is answered, in request order, as `POST /jobs/{id}/callback` answers it alone, with
    that route's status beside it; the items share one transaction where they can."""
    items, most = body.items, services.settings.callback_batch_max
    if len(items) > most:
        raise InvalidCommand(f"at most {most} items per request, got {len(items)}", field="items")
    refusals = _lease_refusals(services, job_id, principal.actor, items)
    reported = [n for n in range(len(items)) if n not in refusals]
    outcomes = services.executor.execute_each(
        [(items[n].command(job_id), _idempotency(job_id, items[n])) for n in reported],
        metadata=command.metadata,
        present=CallbackAnswer.present,
    )
    answered: dict[int, Outcome[Any] | ChronicleError] = {
        **refusals,
        **dict(zip(reported, outcomes, strict=True)),
    }
    return CallbackBatchAnswer(
        answers=[_item_answer(item, answered[n]) for n, item in enumerate(items)]
    )


def _idempotency(job_id: uuid.UUID, body: Callback) -> Idempotency:
    """The executor's key of a report, the same on either route.

    The key is kept twice: by the job (a repeat records nothing, whatever happens) and by
    the executor with the first answer, so that a repeat gets that answer back, position too.
    """
    fingerprint = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    return Idempotency(f"callback:{job_id}:{body.idempotency_key}", fingerprint)


def _item_answer(item: Callback, outcome: Outcome[Any] | ChronicleError) -> CallbackItemAnswer:
    key = item.idempotency_key
    if isinstance(outcome, ChronicleError):
        rendered = {"code": outcome.code, "message": outcome.message, **outcome.details}
        detail = ErrorDetail.model_validate(rendered)  # the single route's error body
        return CallbackItemAnswer(
            idempotency_key=key, status_code=STATUS[type(outcome)], error=detail
        )
    answer = CallbackAnswer(**outcome.result, position=outcome.position)
    return CallbackItemAnswer(idempotency_key=key, status_code=200, answer=answer)


def _lease_refusals(
    services: Services, job_id: uuid.UUID, worker: str, items: list[Callback]
) -> dict[int, LeaseNotHeld]:
    """The items (by their place in the request) ``worker`` may not report, in one query."""
    holders = lease_holders(services.primary, job_id, [item.item_index for item in items])
    unheld = [n for n, item in enumerate(items) if holders.get(item.item_index) != worker]
    if not unheld:
        return {}
    job = read_aggregate(services, Job, job_id)
    refused = {n: _lease_refusal(job, job_id, items[n]) for n in unheld}
    return {n: error for n, error in refused.items() if error is not None}


def _lease_refusal(job: Job | None, job_id: uuid.UUID, body: Callback) -> LeaseNotHeld | None:
    """The refusal of a report from a worker without the item's lease, unless it records nothing.

    The lease's row is gone once the item is reported or the job ended, so a repeat (a known
    key), a late report of a reported item and a report on an ended job get their usual answer.
    The job is read as last saved: the queue's rows may lag it, never lead it.
    """
    if job is None or job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
        return None  # the command answers: not found, ignored, or the transition it cannot make
    if body.idempotency_key in job.callback_keys or not 0 <= body.item_index < job.item_count:
        return None
    if str(body.item_index) in job.results:
        return None
    return LeaseNotHeld(
        f"item {body.item_index} of job {job_id} is not leased to this worker; "
        "lease it first (POST /worker/leases)"
    )
