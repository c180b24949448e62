"""Commands that were made before: a key seen again, or an aggregate created again.

A key stored by an earlier batch answers its repeat with the first outcome (or refuses a
repeat that came with another request); a key seen twice in one batch holds the second command
back until the first has committed, when its record answers it. After a conflict, a command
that created an aggregate whose id the store holds fails: a creation is never retried.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from domain.errors import AlreadyExists, ChronicleError, VersionConflict
from eventstore import idempotency as idem
from eventstore.records import Outcome, QueuedCommand, Ran

log = logging.getLogger(__name__)


def repeats_of(
    recorder: Any, pending: list[QueuedCommand]
) -> tuple[list[tuple[QueuedCommand, Any]], list[QueuedCommand], list[QueuedCommand]]:
    """(answered with their outcome or error, fresh to run, repeats held back) of ``pending``."""
    keyed = {c.idempotency.key for c in pending if c.idempotency}
    if not keyed:
        return [], pending, []
    known = idem.lookup(recorder.datastore, keyed)
    answered: list[tuple[QueuedCommand, Any]] = []
    fresh: list[QueuedCommand] = []
    repeats: list[QueuedCommand] = []
    seen: set[str | None] = set()
    for command in pending:
        key = command.idempotency.key if command.idempotency else None
        if key in known:
            answered.append((command, _replayed(command, known[key])))
        elif key in seen:
            repeats.append(command)
        else:
            seen.add(key)
            fresh.append(command)
    return answered, fresh, repeats


def _replayed(command: QueuedCommand, stored: idem.StoredOutcome) -> Any:
    assert command.idempotency is not None
    try:
        record, position, answered = idem.replay(command.idempotency, stored)
    except ChronicleError as error:
        return error
    return Outcome(record, position, replayed=True, answered=answered)


def stored_ids(recorder: Any, aggregate_ids: Iterable[UUID]) -> set[UUID]:
    """Those of ``aggregate_ids`` the store has events of (a conflict's creations only)."""
    try:
        return {i for i in aggregate_ids if recorder.select_events(i, limit=1)}
    except PersistenceError:
        log.warning("could not tell whether created ids exist", exc_info=True)
        return set()  # they run again and find out


def retries_after_conflict(
    ran: list[Ran], taken: set[UUID], max_attempts: int
) -> tuple[list[QueuedCommand], list[tuple[QueuedCommand, ChronicleError]]]:
    """(to run again, refused with their error) of a batch the version check refused.

    A command that created an id in ``taken`` fails with AlreadyExists; one that conflicted
    ``max_attempts`` times in a row fails with VersionConflict; the others run again.
    """
    again: list[QueuedCommand] = []
    refused: list[tuple[QueuedCommand, ChronicleError]] = []
    for r in ran:
        clash = next((a for a in r.created if a.id in taken), None)
        if clash is not None:
            name = type(clash).__name__
            refused.append((r.command, AlreadyExists(f"{name} {clash.id} already exists")))
            continue
        r.command.attempts += 1
        if r.command.attempts < max_attempts:
            again.append(r.command)
            continue
        message = f"concurrent writers changed the same aggregate {r.command.attempts} times"
        refused.append((r.command, VersionConflict(f"{message} in a row; retry the command")))
    return again, refused
