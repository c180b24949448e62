"""The audit log for admins, as JSON: events by filter, time travel, history, correlations."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.exceptions import RequestValidationError

from api.deps import AdminPrincipal, EventStoreDep
from api.reads import BIGINT_MAX, ReadsDep, caught_up, position_cursor
from api.schemas.audit import (
    AggregateHistory,
    AggregateState,
    AggregateVersion,
    AuditEvent,
    AuditEventPage,
    Correlation,
    RecordedEvent,
    StateChange,
)
from api.schemas.times import Rfc3339Time
from projections.audit.history import get_history, get_state, version_at
from projections.audit.queries import (
    EventFilter,
    list_correlated_events,
    list_events,
)

router = APIRouter(prefix="/api/admin", tags=["audit"])
Name = Annotated[str | None, Query(min_length=1, max_length=200)]
Position = Annotated[int | None, caught_up("audit_log")]


@router.get("/events", response_model=AuditEventPage)
def list_audit_events(
    _: AdminPrincipal,
    reads: ReadsDep,
    aggregate_type: Name = None,
    aggregate_id: uuid.UUID | None = None,
    event_type: Annotated[
        str | None, Query(min_length=1, max_length=200, description="e.g. `Job.Created`.")
    ] = None,
    actor: Name = None,
    correlation_id: Name = None,
    since: Annotated[
        Rfc3339Time | None, Query(description="Events at or after this RFC 3339 time.")
    ] = None,
    until: Annotated[
        Rfc3339Time | None, Query(description="Events before this RFC 3339 time.")
    ] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    min_position: Position = None,
) -> AuditEventPage:
    """Events newest first, filtered; a `cursor` pages to older ones."""
    filters = EventFilter(
        aggregate_type, aggregate_id, event_type, actor, correlation_id, since, until
    )
    rows = list_events(reads.pool, filters, before=position_cursor(cursor), limit=limit)
    next_cursor = str(rows[-1]["position"]) if len(rows) == limit else None
    return AuditEventPage(events=[AuditEvent(**r) for r in rows], next_cursor=next_cursor)


@router.get("/aggregates/{aggregate_id}", response_model=AggregateState)
def get_aggregate_state(
    aggregate_id: uuid.UUID,
    _: AdminPrincipal,
    event_store: EventStoreDep,
    version: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="The state at this version.")
    ] = None,
    at: Annotated[Rfc3339Time | None, Query(description="The state at this RFC 3339 time.")] = None,
) -> AggregateState:
    """The aggregate's state as it was at a version or a time (else now), from the events."""
    if version is not None and at is not None:
        raise RequestValidationError(
            [{"type": "exclusive", "loc": ("query", "at"), "msg": "give version or at, not both"}]
        )
    if at is not None:
        version = version_at(event_store, aggregate_id, at)
    found = get_state(event_store, aggregate_id, version)
    return AggregateState(aggregate_id=aggregate_id, **found)


@router.get("/aggregates/{aggregate_id}/history", response_model=AggregateHistory)
def get_aggregate_history(
    aggregate_id: uuid.UUID,
    _: AdminPrincipal,
    event_store: EventStoreDep,
    after: Annotated[
        int, Query(ge=0, le=BIGINT_MAX, description="Versions after this one (`next_after`).")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AggregateHistory:
    """Each version, oldest first: the event that made it and its diff against the one before."""
    found = get_history(event_store, aggregate_id, after=after, limit=limit)
    versions = [
        AggregateVersion(
            version=v.version,
            event=RecordedEvent(**v.event),
            changes=[StateChange(**_fields(c)) for c in v.changes],
        )
        for v in found
    ]
    next_after = versions[-1].version if len(versions) == limit else None
    return AggregateHistory(aggregate_id=aggregate_id, versions=versions, next_after=next_after)


@router.get("/correlations/{correlation_id}", response_model=Correlation)
def get_correlation(
    correlation_id: Annotated[str, Path(min_length=1, max_length=200)],
    _: AdminPrincipal,
    reads: ReadsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    min_position: Position = None,
) -> Correlation:
    """Every event one request caused, across aggregates, in log order, with causation ids."""
    rows = list_correlated_events(reads.pool, correlation_id, limit=limit)
    return Correlation(correlation_id=correlation_id, events=[AuditEvent(**r) for r in rows])


def _fields(change: Any) -> dict[str, Any]:
    return {"path": change.path, "kind": change.kind, "old": change.old, "new": change.new}
