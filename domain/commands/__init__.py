"""Use cases: one named command per thing a caller can ask of the aggregates.

A command is a frozen dataclass named as the use case (``GrantCredits``, ``CreateJob``);
its ``__call__(aggregates)`` is the handler, run by the command executor on its writer thread.
It checks, then triggers events, and returns its outcome: a small frozen value (ids, versions,
counts) that the caller answers from and that an idempotent repeat gets back. How a caller
presents it is the caller's business (the API's schemas), so an API rename never touches a
stored outcome.

A use case that must ask the outside world first (is every upload in storage? who holds this
item's lease?) or store something there (an image's bytes) does so in ``prepare(saved)``: the
executor calls it in the caller's thread, before anything is queued, with the aggregates as
last saved; it refuses by raising, or hands back the command to run. The writer thread never
waits on anything but the event store.
"""

from typing import Any, Protocol

from domain.base import Aggregates


class Command(Protocol):
    """A use case the executor can run: called with the aggregates, returns its outcome."""

    def __call__(self, aggregates: Aggregates) -> Any: ...


class Prepared(Protocol):
    """A use case that talks to the outside world before its command is queued."""

    def prepare(self, saved: Aggregates) -> Command:
        """Ask or store what the command needs; raise to refuse, else return the command."""
        ...
