"""The command executor: the one way commands reach aggregates (the Durable Object replacement).

One writer thread per process takes every queued command, runs each on aggregates kept
in memory, and commits the whole batch in one transaction: commands on one aggregate are
serialised without fighting each other, and concurrent commands share a commit (group
commit; like a Durable Object's output gate, no caller hears back before its events are
durable). Across processes the version check decides: on a conflict the batch's aggregates
are reloaded and its commands run again, at most ``max_attempts`` times each.

A command is a function of an ``Aggregates`` view (see ``domain.base``); it reads, decides
and triggers events, and returns a JSON-friendly result. It must check before it triggers:
if it raises after triggering, its aggregates are reloaded and the batch's other commands
run again on fresh state.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError

from domain.base import SYSTEM_METADATA, Aggregates, recording_metadata
from domain.errors import ChronicleError, EventStoreUnavailable, Unavailable, VersionConflict
from eventstore import idempotency as idem
from eventstore.idempotency import Idempotency
from eventstore.snapshots import SnapshotWriter
from eventstore.unitofwork import AggregateCache, UnitOfWork

T = TypeVar("T")
log = logging.getLogger(__name__)
_STOP = object()


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """A command's result and the log position of its last event (None if it recorded none)."""

    result: T
    position: int | None
    replayed: bool = False


@dataclass
class _Command:
    run: Callable[[Aggregates], Any]
    metadata: Mapping[str, str]
    idempotency: Idempotency | None
    present: Callable[[Any], Any] | None = None
    future: Future[Outcome[Any]] = field(default_factory=Future)
    attempts: int = 0


class CommandExecutor:
    """Runs commands on aggregates, batching concurrent ones into one transaction."""

    def __init__(
        self,
        app: Any,
        *,
        max_attempts: int = 20,
        max_batch: int = 512,
        cache_size: int = 10_000,
        timeout: float = 30.0,
    ) -> None:
        self._app = app
        self._max_attempts = max_attempts
        self._max_batch = max_batch
        self._timeout = timeout
        self._cache = AggregateCache(app.repository.get, cache_size)
        self._snapshots = SnapshotWriter(app)
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
        present: Callable[[Any], Any] | None = None,
    ) -> Outcome[Any]:
        """Run ``run`` on its aggregates and save what it triggered; raise its domain error.

        ``present`` turns the command's result into what the caller answers with (JSON-ready);
        it runs right after the command, on the state the command left, and its value is what
        an idempotent repeat gets back.
        """
        if self._closed:
            raise Unavailable("the command executor is shut down")
        command = _Command(run, metadata, idempotency, present)
        self._queue.put(command)
        try:
            return command.future.result(self._timeout)
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
                    _resolve(command, exc)
            if stop:
                return

    def _run(self, commands: list[_Command]) -> None:
        """Run ``commands`` until each has its outcome.

        After a conflict, a batch of several commands is split and each runs in a transaction
        of its own, so that a command that cannot commit does not take the others with it.
        """
        pending = commands
        while pending:
            fresh, repeats = self._replay_known(pending)
            pending, conflicted = self._attempt(fresh)
            if conflicted and len(pending) > 1:
                for command in pending:
                    self._run([command])
                pending = []
            pending += repeats  # answered from the record of the first, now committed

    def _replay_known(self, pending: list[_Command]) -> tuple[list[_Command], list[_Command]]:
        """Answer commands whose idempotency key was recorded; hold back in-batch repeats."""
        keyed = {c.idempotency.key for c in pending if c.idempotency}
        if not keyed:
            return pending, []
        known = idem.lookup(self._app.recorder.datastore, keyed)
        fresh, repeats, seen = [], [], set()
        for command in pending:
            key = command.idempotency.key if command.idempotency else None
            if key in known:
                fingerprint, stored = known[key]
                _resolve_replay(command, fingerprint, stored)
            elif key in seen:
                repeats.append(command)
            else:
                seen.add(key)
                fresh.append(command)
        return fresh, repeats

    def _attempt(self, pending: list[_Command]) -> tuple[list[_Command], bool]:
        """Run ``pending`` and commit; the commands to run again, and whether it conflicted."""
        batch: dict[Any, Any] = {}
        done: list[tuple[_Command, Any, list[Any]]] = []
        for command in pending:
            unit = UnitOfWork(self._cache, batch)
            with recording_metadata(command.metadata):
                try:
                    result = command.run(unit)
                    if command.present is not None:
                        result = command.present(result)
                except Exception as exc:
                    if unit.new_events():
                        # It failed half-way: the state in memory is no longer trustworthy.
                        self._cache.evict([*batch, *unit.touched])
                        _resolve(command, exc)
                        return [c for c in pending if c is not command], False
                    done.append((command, exc, []))
                    continue
            batch.update(unit.added)
            done.append((command, result, unit.new_events()))
        return self._commit(list(batch.values()), done)

    def _commit(
        self, aggregates: list[Any], done: list[tuple[_Command, Any, list[Any]]]
    ) -> tuple[list[_Command], bool]:
        order = {id(e): i for i, e in enumerate(e for a in aggregates for e in a.pending_events)}
        versions = {a.id: a.version - len(a.pending_events) for a in aggregates}
        records = [
            (
                c.idempotency.key,
                c.idempotency.fingerprint,
                idem.encode_outcome(outcome),
                [order[id(e)] for e in events],
            )
            for c, outcome, events in done
            if c.idempotency and _is_final(outcome)
        ]
        positions: list[int] = []
        if order or records:  # else nothing to write: refusals without a key
            try:
                recordings = self._app.save(*aggregates, idempotency=records)
            except IntegrityError:
                self.conflicts += 1
                self._cache.evict(a.id for a in aggregates)
                return self._retry_or_give_up([c for c, _, _ in done]), True
            except (OperationalError, InterfaceError) as exc:
                self._cache.evict(a.id for a in aggregates)
                error = EventStoreUnavailable(
                    f"the event store could not be reached ({exc}); the outcome is unknown: "
                    "repeat the command with the same Idempotency-Key to learn it"
                )
                for command, _, _ in done:
                    _resolve(command, error)
                return [], False
            positions = [r.notification.id for r in recordings]
            for aggregate in aggregates:
                self._cache.put(aggregate)
                self._maybe_snapshot(aggregate, versions[aggregate.id])
        for command, outcome, events in done:
            position = max((positions[order[id(e)]] for e in events), default=None)
            _resolve(
                command, outcome if isinstance(outcome, Exception) else Outcome(outcome, position)
            )
        return [], False

    def _retry_or_give_up(self, commands: list[_Command]) -> list[_Command]:
        again = []
        for command in commands:
            command.attempts += 1
            if command.attempts < self._max_attempts:
                again.append(command)
            else:
                _resolve(
                    command,
                    VersionConflict(
                        f"concurrent writers changed the same aggregate {command.attempts} times "
                        "in a row; retry the command"
                    ),
                )
        return again

    def _maybe_snapshot(self, aggregate: Any, version_before: int) -> None:
        interval = getattr(type(aggregate), "snapshot_interval", None)
        if not interval or aggregate.version // interval == version_before // interval:
            return
        self._snapshots.submit(aggregate)


def _is_final(outcome: Any) -> bool:
    """Whether a repeat of the command must get this outcome (transient errors are not)."""
    if isinstance(outcome, Exception):
        return isinstance(outcome, ChronicleError) and not isinstance(
            outcome, VersionConflict | Unavailable
        )
    return True


def _resolve(command: _Command, outcome: Any) -> None:
    if command.future.done():
        return
    if isinstance(outcome, BaseException):
        command.future.set_exception(outcome)
    else:
        command.future.set_result(outcome)


def _resolve_replay(command: _Command, fingerprint: str, stored: dict[str, Any]) -> None:
    assert command.idempotency is not None
    try:
        idem.check_fingerprint(command.idempotency, fingerprint)
        result, position = idem.decode_outcome(stored)
    except ChronicleError as error:
        _resolve(command, error)
    else:
        _resolve(command, Outcome(result, position, replayed=True))
