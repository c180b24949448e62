"""The command executor: the one way commands reach aggregates (the Durable Object replacement).

One writer thread per process takes every queued command, runs each on aggregates kept
in memory, and commits the whole batch in one transaction: commands on one aggregate are
serialised without fighting each other, and concurrent commands share a commit (group
commit; like a Durable Object's output gate, no caller hears back before its events are
durable). Across processes the version check decides: on a conflict the batch's aggregates
are reloaded and its commands run again, at most ``max_attempts`` times each. Decisions are
not retried: a command creating an id that is stored fails at once with AlreadyExists, and
one stating an ``expected_version`` that is not current fails at once with VersionConflict.
A batch the store refuses for another reason (a value it cannot hold, such as text with
U+0000) is split, so that only the command at fault fails.

A command (``domain.commands``) reads, decides and triggers events on an ``Aggregates`` view
and returns its outcome, whose record (``eventstore.outcomes``) is stored under an idempotency
key; its ``prepare``, if any, runs first in the caller's thread. It must check before it
triggers: if it raises after, its aggregates are reloaded and the batch's other commands run
again on fresh state. An observer (``eventstore.metrics``) hears each command's outcome.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError, PersistenceError

from domain.base import SYSTEM_METADATA, Aggregate, Aggregates, recording_metadata
from domain.errors import ChronicleError, Unavailable
from eventstore import idempotency as idem
from eventstore.failures import UNREACHABLE, refusal, unreachable_as_unavailable
from eventstore.idempotency import Idempotency
from eventstore.metrics import CommandObserver, outcome_code
from eventstore.records import IdempotencyRecord, Outcome, QueuedCommand, Ran, last_position
from eventstore.repeats import repeats_of, retries_after_conflict, stored_ids
from eventstore.snapshots import SnapshotWriter
from eventstore.unitofwork import AggregateCache, SavedAggregates, UnitOfWork

__all__ = ["CommandExecutor", "Outcome"]

T = TypeVar("T")
log = logging.getLogger(__name__)
_STOP = object()


class CommandExecutor:
    """Runs commands on aggregates, batching concurrent ones into one transaction."""

    def __init__(
        self,
        event_store: Any,
        *,
        max_attempts: int = 20,
        max_batch: int = 512,
        cache_size: int = 10_000,
        timeout: float = 30.0,
        observer: CommandObserver | None = None,
    ) -> None:
        self._event_store = event_store
        self._max_attempts = max_attempts
        self._max_batch = max_batch
        self._timeout = timeout
        self._observer = observer
        self._cache = AggregateCache(event_store.repository.get, cache_size)
        # Aggregates as last saved, read-only: for ``prepare`` and reads outside the writer.
        self.saved = SavedAggregates(event_store.repository.get)
        self._snapshots = SnapshotWriter(event_store)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._closed = False
        self.conflicts = 0  # batches rejected by the version check (another process wrote)
        self._writer = threading.Thread(target=self._write_loop, name="command-writer", daemon=True)
        self._writer.start()

    def execute(
        self,
        run: Callable[[Aggregates], T],
        *,
        metadata: Mapping[str, str] = SYSTEM_METADATA,
        idempotency: Idempotency | None = None,
    ) -> Outcome[Any]:
        """Run ``run`` on its aggregates and save what it triggered; raise its domain error."""
        if self._closed:
            raise Unavailable("the command executor is shut down")
        command = self._queued(run, metadata, idempotency)
        self._queue.put(command)
        return self._wait(command, self._timeout)

    def execute_each(
        self,
        runs: Sequence[tuple[Callable[[Aggregates], Any], Idempotency | None]],
        *,
        metadata: Mapping[str, str] = SYSTEM_METADATA,
    ) -> list[Outcome[Any] | ChronicleError]:
        """Run several ``(run, idempotency)`` commands as if sent at once; each one's outcome.

        They are queued together, so the writer commits them in one transaction unless a
        conflict or a refusal splits them. A command's domain error is its outcome; anything
        else (the executor shut down or timed out) is raised.
        """
        if self._closed:
            raise Unavailable("the command executor is shut down")
        queued = [_refused_or(partial(self._queued, run, metadata, key)) for run, key in runs]
        for command in queued:
            if isinstance(command, QueuedCommand):
                self._queue.put(command)
        deadline = time.monotonic() + self._timeout
        return [
            _refused_or(partial(self._wait, c, max(0.0, deadline - time.monotonic())))
            if isinstance(c, QueuedCommand)
            else c
            for c in queued
        ]

    def _queued(
        self, run: Any, metadata: Mapping[str, str], idempotency: Idempotency | None
    ) -> QueuedCommand:
        """``run`` ready to queue, prepared first (in the caller's thread) if it asks to be."""
        prepare = getattr(run, "prepare", None)
        return QueuedCommand(run if prepare is None else prepare(self.saved), metadata, idempotency)

    def _wait(self, command: QueuedCommand, timeout: float) -> Outcome[Any]:
        try:
            return command.future.result(timeout)
        except FutureTimeout:
            raise Unavailable(
                "the command did not complete in time and its outcome is unknown; "
                "repeat it with the same Idempotency-Key to learn it"
            ) from None

    def close(self) -> None:
        """Finish the queued commands, then stop the writer."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._writer.join()
            self._snapshots.close()

    def _write_loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get())
            stop = _STOP in batch
            commands = [c for c in batch if c is not _STOP]
            try:
                self._run(commands)
            except BaseException as exc:  # the writer must outlive any one batch
                log.exception("command batch failed")
                self._cache.clear()
                for command in commands:
                    self._finish(command, exc)
            if stop:
                return

    def _run(self, commands: list[QueuedCommand]) -> None:
        """Run ``commands`` until each has its outcome.

        After a conflict, or a refusal of the store that names no command, a batch of several
        commands is split and each runs in a transaction of its own, so that a command that
        cannot commit does not take the others with it.
        """
        pending = commands
        while pending:
            try:
                fresh, repeats = self._replay_known(pending)
            except PersistenceError as exc:  # e.g. a key the store cannot hold
                if len(pending) > 1 and not isinstance(exc, UNREACHABLE):
                    for command in pending:
                        self._run([command])
                    return
                error = refusal(exc, outcome_known=True)
                for command in pending:
                    self._finish(command, error)
                return
            again, split = self._attempt(fresh)
            if split and len(again) > 1:
                for command in again:
                    self._run([command])
                again = []
            pending = again + repeats  # repeats: answered from the first's record, now committed

    def _replay_known(
        self, pending: list[QueuedCommand]
    ) -> tuple[list[QueuedCommand], list[QueuedCommand]]:
        """Answer commands whose idempotency key was recorded; hold back in-batch repeats."""
        answered, fresh, repeats = repeats_of(self._event_store.recorder, pending)
        for command, outcome in answered:
            self._finish(command, outcome)
        return fresh, repeats

    def _attempt(self, pending: list[QueuedCommand]) -> tuple[list[QueuedCommand], bool]:
        """Run ``pending`` and commit; the commands to run again, and whether one by one."""
        batch: dict[UUID, Aggregate] = {}
        ran: list[Ran] = []
        for command in pending:
            unit = UnitOfWork(self._cache, batch)
            with recording_metadata(command.metadata):
                try:
                    result = command.run(unit)
                except Exception as exc:
                    if unit.new_events():
                        # It failed half-way: the state in memory is no longer trustworthy.
                        self._cache.evict([*batch, *unit.touched])
                        self._finish(command, unreachable_as_unavailable(exc))
                        return [c for c in pending if c is not command], False
                    ran.append(Ran(command, unreachable_as_unavailable(exc)))
                    continue
            batch.update(unit.added)
            ran.append(Ran(command, result, tuple(unit.new_events()), tuple(unit.added.values())))
        return self._commit(list(batch.values()), ran)

    def _commit(self, aggregates: list[Aggregate], ran: list[Ran]) -> tuple[list[Any], bool]:
        order = {id(e): i for i, e in enumerate(e for a in aggregates for e in a.pending_events)}
        indexes = [tuple(order[id(e)] for e in r.events) for r in ran]
        records = [
            IdempotencyRecord(key.key, key.fingerprint, idem.encode_outcome(r.outcome), ix)
            for r, ix in zip(ran, indexes, strict=True)
            if (key := r.command.idempotency) and idem.is_recorded(r.outcome)
        ]
        versions = {a.id: a.version - len(a.pending_events) for a in aggregates}
        ids: list[int] = []
        if order or records:  # else nothing to write: refusals without a key
            try:
                recordings = self._event_store.save(*aggregates, idempotency=records)
            except IntegrityError:
                return self._conflicted(aggregates, ran), True
            except Exception as exc:
                self._cache.evict(a.id for a in aggregates)
                if len(ran) > 1 and not isinstance(exc, UNREACHABLE):
                    return [r.command for r in ran], True  # find the command at fault
                error = refusal(exc, outcome_known=False)
                for r in ran:
                    self._finish(r.command, error)
                return [], False
            ids = [r.notification.id for r in recordings]
            for aggregate in aggregates:
                self._cache.put(aggregate)
            self._observe(lambda o: o.batch_committed(len(ran)))
        for r, ix in zip(ran, indexes, strict=True):
            answer = r.outcome
            if not isinstance(answer, Exception):
                answer = Outcome(answer, last_position(ix, ids))
            self._finish(r.command, answer)
        if ids:
            for aggregate in aggregates:
                self._snapshots.submit_if_due(aggregate, versions[aggregate.id])
        return [], False

    def _conflicted(self, aggregates: list[Aggregate], ran: list[Ran]) -> list[QueuedCommand]:
        """After the version check refused the batch: creations of stored ids fail, others retry."""
        self.conflicts += 1
        self._cache.evict(a.id for a in aggregates)
        self._observe(lambda o: o.batch_conflicted([r.command.type_name for r in ran]))
        taken = stored_ids(self._event_store.recorder, {a.id for r in ran for a in r.created})
        again, refused = retries_after_conflict(ran, taken, self._max_attempts)
        for command, error in refused:
            self._finish(command, error)
        return again

    def _finish(self, command: QueuedCommand, outcome: Any) -> None:
        """Answer the caller of ``command`` (once), and tell the observer."""
        if command.future.done():
            return
        if isinstance(outcome, BaseException):
            command.future.set_exception(outcome)
        else:
            command.future.set_result(outcome)
        if self._observer is not None:
            seconds = time.monotonic() - command.queued_at
            code = outcome_code(outcome)
            self._observe(lambda o: o.command_completed(command.type_name, seconds, code))

    def _observe(self, call: Callable[[CommandObserver], None]) -> None:
        if self._observer is not None:
            try:
                call(self._observer)
            except Exception:  # metrics must never fail a command
                log.warning("the command observer failed", exc_info=True)


def _refused_or(call: Callable[[], T]) -> T | ChronicleError:
    """``call()``, or the domain error it raised; an outage (``Unavailable``) is raised."""
    try:
        return call()
    except Unavailable:
        raise
    except ChronicleError as error:
        return error
