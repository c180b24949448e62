"""The aggregate base: every event carries the metadata of the command that caused it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate as LibraryAggregate

from domain.errors import ChronicleError, VersionConflict

SYSTEM_METADATA: Mapping[str, str] = {
    "actor": "system",
    "correlation_id": "",
    "causation_id": "",
}

A = TypeVar("A", bound="Aggregate")

_metadata: ContextVar[Mapping[str, str]] = ContextVar("metadata", default=SYSTEM_METADATA)


@contextmanager
def recording_metadata(metadata: Mapping[str, str]) -> Iterator[None]:
    """Stamp every event triggered inside the block with ``metadata``."""
    token = _metadata.set(dict(metadata))
    try:
        yield
    finally:
        _metadata.reset(token)


class Aggregate(LibraryAggregate):
    """An aggregate whose events record actor, correlation id and causation id."""

    class Event(LibraryAggregate.Event):
        metadata: dict[str, str]

    class Created(Event, LibraryAggregate.Created):
        pass

    @classmethod
    def _create(cls, event_class: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("metadata", dict(_metadata.get()))
        return super()._create(event_class, **kwargs)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", dict(_metadata.get()))
        super().trigger_event(event_class, **kwargs)

    def stale(self, expected_version: int) -> ChronicleError:
        """The refusal of a command made against ``expected_version``, which is not current."""
        return VersionConflict(
            f"{type(self).__name__} {self.id} is at version {self.version}, "
            f"not the expected {expected_version}",
            current_version=self.version,
        )


class Aggregates(Protocol):
    """What a use case sees of the event store: aggregates by id, and new ones to save."""

    def get(self, cls: type[A], aggregate_id: UUID, expected_version: int | None = None) -> A:
        """The aggregate, or NotFound; VersionConflict if it is not at ``expected_version``."""
        ...

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate, or None."""
        ...

    def add(self, aggregate: Aggregate) -> None:
        """Save ``aggregate`` (new) with the command's other changes; AlreadyExists if taken."""
        ...
