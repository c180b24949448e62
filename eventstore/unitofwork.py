"""The aggregates one command reads and creates, and the in-memory cache they come from.

The cache holds aggregates as last saved or loaded, so it can be behind the store (another
process wrote since) but never ahead of it: a version below the cached one is stale for sure,
a version above it is checked against the store once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import InterfaceError, OperationalError

from domain.base import Aggregate
from domain.errors import AlreadyExists, EventStoreUnavailable, NotFound

A = TypeVar("A", bound=Aggregate)


class AggregateCache:
    """Aggregates as last saved, least recently used dropped first. One thread uses it."""

    def __init__(self, load: Callable[[UUID], Any], maxsize: int) -> None:
        self._load = load
        self._maxsize = maxsize
        self._items: OrderedDict[UUID, Aggregate] = OrderedDict()

    def get(self, aggregate_id: UUID) -> Aggregate | None:
        aggregate = self._items.get(aggregate_id)
        if aggregate is not None:
            self._items.move_to_end(aggregate_id)
            return aggregate
        try:
            aggregate = self._load(aggregate_id)
        except AggregateNotFoundError:
            return None
        self.put(aggregate)
        return aggregate

    def peek(self, aggregate_id: UUID) -> Aggregate | None:
        """The cached aggregate, without loading it."""
        return self._items.get(aggregate_id)

    def put(self, aggregate: Aggregate) -> None:
        self._items[aggregate.id] = aggregate
        self._items.move_to_end(aggregate.id)
        while len(self._items) > self._maxsize:
            self._items.popitem(last=False)

    def evict(self, aggregate_ids: Any) -> None:
        for aggregate_id in aggregate_ids:
            self._items.pop(aggregate_id, None)

    def clear(self) -> None:
        self._items.clear()


class UnitOfWork:
    """One command's view of the batch: aggregates shared with earlier commands of the batch."""

    def __init__(self, cache: AggregateCache, batch: dict[UUID, Aggregate]) -> None:
        self._cache = cache
        self._batch = batch
        self._marks: dict[UUID, int] = {}
        self.added: dict[UUID, Aggregate] = {}

    def get(self, cls: type[A], aggregate_id: UUID, expected_version: int | None = None) -> A:
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(f"{cls.__name__} {aggregate_id} not found")
        if expected_version is None or aggregate.version == expected_version:
            return aggregate
        if expected_version > aggregate.version and not aggregate.pending_events:
            aggregate = self._reload(cls, aggregate)  # the cache may be behind the store
            if aggregate.version == expected_version:
                return aggregate
        raise aggregate.stale(expected_version)

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        aggregate = self.added.get(aggregate_id) or self._batch.get(aggregate_id)
        if aggregate is None:
            aggregate = self._cache.get(aggregate_id)
        if not isinstance(aggregate, cls):
            return None
        self._marks.setdefault(aggregate.id, len(aggregate.pending_events))
        self._batch.setdefault(aggregate.id, aggregate)
        return aggregate

    def add(self, aggregate: Aggregate) -> None:
        # Only what memory knows (no look-up per creation): the store's key refuses the rest.
        known = self.added.get(aggregate.id) or self._batch.get(aggregate.id)
        if known is not None or self._cache.peek(aggregate.id) is not None:
            raise AlreadyExists(f"{type(aggregate).__name__} {aggregate.id} already exists")
        self.added[aggregate.id] = aggregate

    def _reload(self, cls: type[A], aggregate: A) -> A:
        self._cache.evict([aggregate.id])
        fresh = self._cache.get(aggregate.id)
        if not isinstance(fresh, cls):  # deleted meanwhile: keep what the command saw
            return aggregate
        self._batch[fresh.id] = fresh
        self._marks[fresh.id] = 0
        return fresh

    @property
    def touched(self) -> list[UUID]:
        return [*self._marks, *self.added]

    def new_events(self) -> list[Any]:
        """Events this command triggered, in the order they will be saved."""
        events = [e for a in self.added.values() for e in a.pending_events]
        for aggregate_id, mark in self._marks.items():
            events.extend(self._batch[aggregate_id].pending_events[mark:])
        return events


class SavedAggregates:
    """Aggregates as last saved, read from the store, read-only: what ``prepare`` sees.

    Safe from any thread: each read loads afresh and shares nothing with the writer's cache.
    """

    def __init__(self, load: Callable[[UUID], Any]) -> None:
        self._load = load

    def get(self, cls: type[A], aggregate_id: UUID, expected_version: int | None = None) -> A:
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(f"{cls.__name__} {aggregate_id} not found")
        if expected_version is not None and aggregate.version != expected_version:
            raise aggregate.stale(expected_version)
        return aggregate

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate = self._load(aggregate_id)
        except AggregateNotFoundError:
            return None
        except (OperationalError, InterfaceError) as exc:
            raise EventStoreUnavailable(
                "the event store could not be reached; retry shortly"
            ) from exc
        return aggregate if isinstance(aggregate, cls) else None

    def add(self, aggregate: Aggregate) -> None:
        raise TypeError("prepare reads aggregates; a command creates them")
