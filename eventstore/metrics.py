"""The executor's metrics hook: what a command cost and how batches fared, for any metrics system.

The executor calls an observer only when one is given (``CommandExecutor(observer=...)``),
always on its writer thread, so an observer needs no lock but must return quickly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.errors import ChronicleError


class CommandObserver(Protocol):
    """Receives the command executor's measurements."""

    def command_completed(self, command_type: str, seconds: float, outcome: str) -> None:
        """A command was answered ``seconds`` after it was queued: ``"ok"`` or an error code."""
        ...

    def batch_committed(self, size: int) -> None:
        """One transaction committed the outcomes of ``size`` commands."""
        ...

    def batch_conflicted(self, command_types: Sequence[str]) -> None:
        """The version check rejected a transaction of these commands (they run again)."""
        ...


def outcome_code(outcome: object) -> str:
    """``"ok"`` for a result, the error's code for a domain error, ``"internal"`` otherwise."""
    if not isinstance(outcome, BaseException):
        return "ok"
    return outcome.code if isinstance(outcome, ChronicleError) else "internal"
