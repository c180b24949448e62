"""The reactor runner: follows the event log at least once into side effects, with dead letters.

Each reactor runs in its own thread (``projections.engine.follower``: one active instance, so only
one process performs its side effects; standbys; NOTIFY wake-ups) with its own position, and:
- delivers each event it handles, retrying a failure with backoff (``retry_seconds``, doubling,
  capped at ``retry_max_seconds``) up to ``max_attempts`` times, then parks it in
  ``dead_letters`` and goes on with the events of other aggregates; a later event of a parked
  aggregate is recorded ``waiting`` behind it, so order is kept and nothing is lost;
- moves its position after a delivery, and in the same transaction as the letter it records:
  a crash may repeat a delivery (at least once: reactors are idempotent), never lose one;
- before new events, delivers the letters an admin asked to retry, each followed by the letters
  waiting behind it, in order; one that fails again is parked with its attempts bumped;
- offers a reactor that can batch its work (an optional ``prepare(events)``) each batch of the
  events it handles before delivering them one by one (the embeddings reactor embeds them in one
  call of its model); what ``prepare`` does is only a speed-up, never relied upon;
- treats an outage (``Unavailable``, a lost connection: ``projections.engine.outages``, by
  SQLSTATE) as no fault of the event: it pauses and tries the same event again rather than
  parking it; an error about the event itself (a value too long for an index) is parked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import psycopg

from eventstore.decoding import decode_event
from projections.engine import deadletters
from projections.engine.follower import LogFollower, Unreachable, advance, describe
from projections.engine.outages import is_outage
from projections.engine.watcher import LogWatcher

log = logging.getLogger(__name__)


class Reactor(Protocol):
    """A side effect that follows the event log, at least once: ``react`` must be idempotent."""

    name: str

    def handles(self, event: Any) -> bool:
        """Whether ``event`` concerns this reactor (a cheap filter, no I/O)."""
        ...

    def react(self, event: Any, position: int) -> None:
        """Perform the side effect of ``event`` at log ``position``; raise if it failed."""
        ...


def caused_by(event: Any, position: int, *, actor: str) -> dict[str, str]:
    """Metadata of a command caused by ``event`` at log ``position``: same correlation id."""
    return {
        "actor": actor,
        "correlation_id": event.metadata.get("correlation_id", ""),
        "causation_id": f"event:{position}",
    }


class Stopping(Exception):
    """The runner stops in the middle of a delivery; the event is delivered next time."""


class ReactorRunner(LogFollower[Reactor]):
    """Runs ``reactors`` until stopped, each in its own thread."""

    kind = "reactor"

    def __init__(
        self,
        dsn: str,
        event_store: Any,
        reactors: Sequence[Reactor],
        watcher: LogWatcher,
        *,
        batch_size: int = 100,
        poll_seconds: float = 1.0,
        max_attempts: int = 5,
        retry_seconds: float = 0.2,
        retry_max_seconds: float = 5.0,
    ) -> None:
        super().__init__(dsn, event_store, reactors, watcher, poll_seconds=poll_seconds)
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._retry_seconds = retry_seconds
        self._retry_max_seconds = retry_max_seconds

    def step(self, conn: psycopg.Connection[Any], reactor: Reactor, position: int) -> bool:
        try:
            retried = self._retry_letters(conn, reactor)
            return self._react_to_log(conn, reactor, position) or retried
        except Stopping:
            return False

    def _react_to_log(self, conn: psycopg.Connection[Any], reactor: Reactor, position: int) -> bool:
        notifications = self._event_store.recorder.select_notifications(
            start=position + 1, limit=self._batch_size
        )
        self._prepare(reactor, notifications)
        for notification in notifications:
            if self._stopping.is_set():
                raise Stopping  # before the position passes what was not delivered
            if not self._handles(reactor, notification):
                continue
            error = None
            waits = deadletters.is_blocked(conn, reactor.name, notification.originator_id)
            if not waits:
                _, error = self._deliver(reactor, notification)
            with conn.transaction(), conn.cursor() as cur:
                if waits or error:
                    attempts = self._max_attempts if error else 0
                    deadletters.record(cur, reactor.name, notification, attempts, error)
                advance(cur, reactor.name, position, notification.id)
            position = notification.id
            if error:
                log.error(
                    "reactor %s parked log position %d (%s, aggregate %s) after %d attempts: %s",
                    reactor.name,
                    notification.id,
                    notification.topic,
                    notification.originator_id,
                    self._max_attempts,
                    error,
                )
        if notifications and position < notifications[-1].id:
            with conn.transaction(), conn.cursor() as cur:
                advance(cur, reactor.name, position, notifications[-1].id)
        return bool(notifications)

    def _prepare(self, reactor: Reactor, notifications: Sequence[Any]) -> None:
        """Offer a reactor that batches its work (``prepare``) the events it will be given.

        Only a speed-up: a failure here is logged and each event is delivered as ever.
        """
        prepare = getattr(reactor, "prepare", None)
        if prepare is None:
            return
        try:
            events = [
                (decode_event(self._event_store.mapper, n), n.id)
                for n in notifications
                if self._handles(reactor, n)
            ]
            if events:
                prepare(events)
        except Exception as exc:
            log.warning("reactor %s could not prepare a batch: %s", reactor.name, describe(exc))

    def _retry_letters(self, conn: psycopg.Connection[Any], reactor: Reactor) -> bool:
        """Deliver each letter an admin retried, then the letters waiting behind it."""
        asked = deadletters.retrying(conn, reactor.name)
        for _, aggregate_id, since in asked:
            for letter_id, position, _ in deadletters.queue_of(
                conn, reactor.name, aggregate_id, since
            ):
                notification = self._notification_at(position)
                attempts, error = self._deliver(reactor, notification)
                if error:
                    deadletters.mark_parked(conn, letter_id, attempts, error)
                    log.error(
                        "reactor %s parked log position %d again: %s", reactor.name, position, error
                    )
                    break
                deadletters.mark_delivered(conn, letter_id, attempts)
        return bool(asked)

    def _notification_at(self, position: int) -> Any:
        found = self._event_store.recorder.select_notifications(start=position, limit=1)
        if not found or found[0].id != position:
            raise RuntimeError(f"log position {position} is not in the event log")
        return found[0]

    def _handles(self, reactor: Reactor, notification: Any) -> bool:
        try:
            return reactor.handles(decode_event(self._event_store.mapper, notification))
        except Exception:
            return True  # an event that cannot be read is delivered (and fails, and is parked)

    def _deliver(self, reactor: Reactor, notification: Any) -> tuple[int, str | None]:
        """Deliver ``notification``, retrying with backoff: the attempts made, the last error."""
        delay = self._retry_seconds
        for attempt in range(1, self._max_attempts + 1):
            try:
                event = decode_event(self._event_store.mapper, notification)
                reactor.react(event, notification.id)
                return attempt, None
            except Exception as exc:
                if is_outage(exc):
                    raise Unreachable(describe(exc)) from exc
                error = describe(exc)
                if attempt == self._max_attempts:
                    return attempt, error
                log.warning(
                    "reactor %s failed on log position %d (attempt %d of %d): %s",
                    reactor.name,
                    notification.id,
                    attempt,
                    self._max_attempts,
                    error,
                )
            if self._stopping.wait(delay):
                raise Stopping
            delay = min(delay * 2, self._retry_max_seconds)
        raise AssertionError("the last attempt returns")
