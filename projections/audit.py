"""The audit log's queries: events newest first by filter, a request's events, and time travel.

Lists read the ``audit_log`` read model, newest first by log ``position`` (which is also the
cursor: the next page is the rows below it). An aggregate's state as it was, and its history
with a diff per version, come from the event store itself: the aggregate folded up to a
version, never a read model, so they hold whatever the read models say.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.utils import TopicError
from psycopg_pool import ConnectionPool

from domain.errors import EventStoreUnavailable, NotFound
from eventstore.decoding import describe_event, public_state
from projections.statediff import Change, diff

COLUMNS = """position, recorded_at, aggregate_type, aggregate_id, version, event_type, topic,
    resolved, actor, correlation_id, causation_id, data"""


@dataclass(frozen=True)
class EventFilter:
    """Which events a list keeps; a field left None keeps every event."""

    aggregate_type: str | None = None
    aggregate_id: UUID | None = None
    event_type: str | None = None
    actor: str | None = None
    correlation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_events(
    pool: ConnectionPool, filters: EventFilter, *, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """The newest ``limit`` events that match ``filters``, below position ``before``."""
    with pool.connection() as conn:
        rows = conn.execute(*events_query(filters, before=before, limit=limit)).fetchall()
    return [dict(r) for r in rows]


def events_query(filters: EventFilter, *, before: int | None, limit: int) -> tuple[str, list[Any]]:
    """The SQL and parameters of ``list_events`` (each filter has an index ending in position)."""
    where, params = ["TRUE"], []
    for column in ("aggregate_type", "aggregate_id", "event_type", "actor", "correlation_id"):
        value = getattr(filters, column)
        if value is not None:
            where.append(f"{column} = %s")
            params.append(value)
    if filters.since is not None:
        where.append("recorded_at >= %s")
        params.append(filters.since)
    if filters.until is not None:
        where.append("recorded_at < %s")
        params.append(filters.until)
    if before is not None:
        where.append("position < %s")
        params.append(before)
    params.append(limit)
    sql = f"SELECT {COLUMNS} FROM audit_log WHERE {' AND '.join(where)} "
    return sql + "ORDER BY position DESC LIMIT %s", params


def list_correlated_events(
    pool: ConnectionPool, correlation_id: str, *, limit: int
) -> list[dict[str, Any]]:
    """Every event one request caused (its correlation id), in log order."""
    return _in_log_order(pool, "correlation_id", correlation_id, limit)


def list_aggregate_events(
    pool: ConnectionPool, aggregate_id: UUID, *, limit: int
) -> list[dict[str, Any]]:
    """The events of one aggregate, in version order."""
    return _in_log_order(pool, "aggregate_id", aggregate_id, limit)


def _in_log_order(
    pool: ConnectionPool, column: str, value: Any, limit: int
) -> list[dict[str, Any]]:
    """The first ``limit`` rows whose ``column`` (a fixed name, never input) equals ``value``."""
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM audit_log WHERE {column} = %s ORDER BY position LIMIT %s",
            (value, limit),
        ).fetchall()
    return [dict(r) for r in rows]


def get_state(event_store: Any, aggregate_id: UUID, version: int | None = None) -> dict[str, Any]:
    """The aggregate's state at ``version`` (the current one if None), JSON-ready, or NotFound."""
    with _reading(aggregate_id):
        aggregate = event_store.repository.get(aggregate_id, version=version)
    if version is not None and aggregate.version != version:
        raise NotFound(f"aggregate {aggregate_id} has no version {version}")
    return _described_state(aggregate)


def version_at(event_store: Any, aggregate_id: UUID, at: datetime) -> int:
    """The aggregate's version at time ``at``, or NotFound if it did not exist yet."""
    version = None
    for event in _events(event_store, aggregate_id):
        if event.timestamp > at:
            break
        version = event.originator_version
    if version is None:
        raise NotFound(f"aggregate {aggregate_id} did not exist at {at.isoformat()}")
    return int(version)


@dataclass(frozen=True)
class Version:
    """One version of an aggregate: the event that made it, and what it changed."""

    version: int
    event: dict[str, Any]
    changes: list[Change]


def get_history(
    event_store: Any, aggregate_id: UUID, *, after: int = 0, limit: int
) -> list[Version]:
    """Versions after ``after`` of the aggregate (at most ``limit``), each with its diff."""
    found: list[Version] = []
    aggregate: Any = None
    previous: dict[str, Any] = {}
    for event in _events(event_store, aggregate_id):
        aggregate = event.mutate(aggregate)
        state = public_state(aggregate)
        if event.originator_version > after:
            found.append(
                Version(event.originator_version, describe_event(event), diff(previous, state))
            )
            if len(found) == limit:
                break
        previous = state
    return found


def _described_state(aggregate: Any) -> dict[str, Any]:
    return {
        "aggregate_type": type(aggregate).__qualname__,
        "version": aggregate.version,
        "state": public_state(aggregate),
    }


def _events(event_store: Any, aggregate_id: UUID) -> Iterator[Any]:
    """The aggregate's events in version order, or NotFound if it has none."""
    with _reading(aggregate_id):
        events = iter(event_store.events.get(aggregate_id))
        first = next(events, None)
    if first is None:
        raise NotFound(f"aggregate {aggregate_id} not found")
    yield first
    with _reading(aggregate_id):
        yield from events


@contextmanager
def _reading(aggregate_id: UUID) -> Iterator[None]:
    """Turn the event store's failures into domain errors while reading ``aggregate_id``."""
    try:
        yield
    except AggregateNotFoundError:
        raise NotFound(f"aggregate {aggregate_id} not found") from None
    except TopicError as exc:
        raise NotFound(
            f"aggregate {aggregate_id} has an event whose class no longer exists ({exc}); "
            "the event list shows its events with their raw data"
        ) from None
    except (OperationalError, InterfaceError) as exc:
        raise EventStoreUnavailable("the event store could not be reached; retry shortly") from exc
