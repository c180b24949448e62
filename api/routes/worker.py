"""The GPU worker API: lease queued items, report each item's result alone or in batches."""

import uuid

from fastapi import APIRouter

from api.deps import (
    Command,
    ObjectStoreDep,
    PrimaryDep,
    SettingsDep,
    WorkerPrincipal,
    in_thread,
)
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
from domain.commands.job import ReportItem
from domain.errors import ChronicleError, InvalidCommand
from domain.jobstatus import result_key
from eventstore.records import Outcome
from projections.jobs.dispatch import JobLeases, lease

router = APIRouter(tags=["worker"])
RESULT_CONTENT_TYPE = "application/json"


@router.post("/worker/leases", response_model=Leases)
@in_thread
def lease_items(
    body: LeaseRequest,
    principal: WorkerPrincipal,
    primary: PrimaryDep,
    store: ObjectStoreDep,
    settings: SettingsDep,
) -> Leases:
    """Lease up to `max_items` queued items; a lease not reported in time is offered again."""
    seconds = body.lease_seconds or settings.lease_seconds
    rows = lease(
        primary,  # a lease is a write, and the next one must see it: never a replica
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
                download_url=store.presign_get(row["upload_key"], seconds),
                result_key=result,
                result_upload_url=store.presign_put(result, RESULT_CONTENT_TYPE, seconds),
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
    primary: PrimaryDep,
) -> CallbackAnswer:
    """Report one item's outcome, from the worker holding its lease (else 409 lease_not_held);
    the first report of an item counts, and a repeat with the same `idempotency_key` changes
    nothing and gets the same answer. The first report moves a queued job to running; reports
    on a canceled job are acknowledged and ignored."""
    leases = JobLeases(primary, job_id, [body.item_index])
    report = ReportItem(body.report(job_id), principal.actor, leases)
    return CallbackAnswer.from_outcome(command.run(report, body.idempotency(job_id)))


@router.post("/jobs/{job_id}/callbacks", response_model=CallbackBatchAnswer)
@in_thread
def report_items(
    job_id: uuid.UUID,
    body: CallbackBatch,
    principal: WorkerPrincipal,
    command: Command,
    primary: PrimaryDep,
    settings: SettingsDep,
) -> CallbackBatchAnswer:
    """Report several items' outcomes at once (at most `CHRONICLE_CALLBACK_BATCH_MAX`): each
    item is answered, in request order, as `POST /jobs/{id}/callback` answers it alone, with
    that route's status beside it; the items share one transaction where they can."""
    items, most = body.items, settings.callback_batch_max
    if len(items) > most:
        raise InvalidCommand(f"at most {most} items per request, got {len(items)}", field="items")
    leases = JobLeases(primary, job_id, [item.item_index for item in items])
    reports = [
        (ReportItem(item.report(job_id), principal.actor, leases), item.idempotency(job_id))
        for item in items
    ]
    outcomes = command.run_each(reports)
    return CallbackBatchAnswer(
        answers=[_item_answer(item, o) for item, o in zip(items, outcomes, strict=True)]
    )


def _item_answer(item: Callback, outcome: Outcome | ChronicleError) -> CallbackItemAnswer:
    key = item.callback_key
    if isinstance(outcome, ChronicleError):
        rendered = {"code": outcome.code, "message": outcome.message, **outcome.details}
        detail = ErrorDetail.model_validate(rendered)  # the single route's error body
        return CallbackItemAnswer(
            idempotency_key=key, status_code=STATUS[type(outcome)], error=detail
        )
    answer = CallbackAnswer.from_outcome(outcome)
    return CallbackItemAnswer(idempotency_key=key, status_code=200, answer=answer)
