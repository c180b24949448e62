"""An aggregate as it was, and its versions with what each changed: time travel, from the events.

The state at a version, and the history with a diff per version, come from the event store
itself: the aggregate folded up to a version, never a read model, so they hold whatever the
read models say.
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

from domain.errors import EventStoreUnavailable, NotFound
from eventstore.decoding import describe_event, public_state
from projections.audit.diff import Change, diff


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
