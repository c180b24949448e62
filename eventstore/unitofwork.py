"""The aggregates one command reads and creates, and the in-memory cache they come from."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from domain.base import Aggregate
from domain.errors import Conflict, NotFound

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

    def get(self, cls: type[A], aggregate_id: UUID) -> A:
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise NotFound(f"{cls.__name__} {aggregate_id} not found")
        return aggregate

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
        if aggregate.id in self.added or aggregate.id in self._batch:
            raise Conflict(f"{type(aggregate).__name__} {aggregate.id} already exists")
        self.added[aggregate.id] = aggregate

    @property
    def touched(self) -> list[UUID]:
        return [*self._marks, *self.added]

    def new_events(self) -> list[Any]:
        """Events this command triggered, in the order they will be saved."""
        events = [e for a in self.added.values() for e in a.pending_events]
        for aggregate_id, mark in self._marks.items():
            events.extend(self._batch[aggregate_id].pending_events[mark:])
        return events
