"""The records the executor, the recorder and the idempotency store pass to each other."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from domain.base import Aggregate, Aggregates
from eventstore.idempotency import Idempotency
from eventstore.outcomes import record_of

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """A command's result and the log position of its last event (None if it recorded none).

    ``result`` is the command's outcome, or its stored record when ``replayed``; a record
    stored before outcomes were (``answered``) is the API's answer itself, as it was given.
    """

    result: T
    position: int | None
    replayed: bool = False
    answered: bool = False

    @property
    def record(self) -> Any:
        """The outcome in JSON types: what a caller presents its answer from."""
        return record_of(self.result)


@dataclass
class QueuedCommand:
    """A command waiting for its outcome, and how many times a conflict sent it back."""

    run: Callable[[Aggregates], Any]
    metadata: Mapping[str, str]
    idempotency: Idempotency | None
    future: Future[Outcome[Any]] = field(default_factory=Future)
    attempts: int = 0
    queued_at: float = field(default_factory=time.monotonic)

    @property
    def type_name(self) -> str:
        """The use case's name: a plain function's qualified name, else the command's class."""
        run = self.run
        if inspect.isfunction(run) or inspect.ismethod(run):
            return run.__qualname__
        return type(run).__name__


@dataclass(frozen=True)
class Ran:
    """One command's part of an attempt: its result or refusal, its new events, its creations."""

    command: QueuedCommand
    outcome: Any
    events: tuple[Any, ...] = ()
    created: tuple[Aggregate, ...] = ()


@dataclass(frozen=True)
class IdempotencyRecord:
    """An outcome to store under a key, with the indexes of its command's events in the batch.

    It is stored with the log position of the command's last event (null without one): the
    append functions (migrations 0010, 0019) find it from ``event_indexes``.
    """

    key: str
    fingerprint: str
    outcome: Mapping[str, Any]
    event_indexes: tuple[int, ...]


def last_position(event_indexes: Sequence[int], notification_ids: Sequence[int]) -> int | None:
    """The log position of a command's last event, given the ids its batch was saved under."""
    return max((notification_ids[i] for i in event_indexes), default=None)
