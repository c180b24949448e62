"""Use cases: one named command per thing a caller can ask of the aggregates.

A command is a frozen dataclass named as the use case (``GrantCredits``, ``CreateJob``);
its ``__call__(aggregates)`` is the handler, run by the command executor. It checks, then
triggers events, and returns domain values (the aggregates it changed, or a small result):
how a caller presents them is the caller's business (the API's schemas).
"""

from typing import Any, Protocol

from domain.base import Aggregates


class Command(Protocol):
    """A use case the executor can run: called with the aggregates, returns domain values."""

    def __call__(self, aggregates: Aggregates) -> Any: ...
