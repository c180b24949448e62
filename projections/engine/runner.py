"""The projection runner: follows the event log in batches, exactly once into read models.

Each projection runs in its own thread (``projections.engine.follower``: one active instance,
standbys, NOTIFY wake-ups), and:
- applies many events per transaction: the projection's writes and its new position commit
  together, so a crash anywhere leaves the read model and its position consistent;
- never skips a late commit: the event store locks its table for every insert, so commit
  order is notification order, and reading ``notification_id > position`` cannot pass over
  an event that commits later;
- stops at a poison event instead of failing its batch forever: when a batch fails, it is
  applied again one event per transaction, so every event before the poison one is projected,
  then the projection is recorded ``failed`` at that event's position (with the error) and
  logged once at ERROR. Other projections go on; this one waits for an operator's
  ``chronicle projections resume`` or a restart of its process. Only an outage
  (``projections.engine.outages``, judged by SQLSTATE) pauses it instead: an error about the
  event itself, even one psycopg calls ``OperationalError``, is a poison event.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any, Protocol

import psycopg
from eventsourcing.utils import TopicError, resolve_topic

from eventstore.decoding import decode_event
from projections.engine.follower import (
    LogFollower,
    PositionMoved,
    advance,
    describe,
    read_position,
    record_failure,
)
from projections.engine.outages import is_outage
from projections.engine.watcher import LogWatcher

__all__ = ["Projection", "ProjectionRunner", "apply", "read_position"]

log = logging.getLogger(__name__)


class Projection(Protocol):
    """A read model built from the event log."""

    name: str

    @property
    def tables(self) -> tuple[str, ...]:
        """The tables it writes, in the order it writes them (what a rebuild recreates)."""
        ...

    def project(self, cur: psycopg.Cursor[Any], position: int, event: Any) -> None:
        """Apply one event (at log ``position``) to the read model."""
        ...


class ProjectionRunner(LogFollower[Projection]):
    """Runs ``projections`` until stopped, each in its own thread."""

    kind = "projection"

    def __init__(
        self,
        dsn: str,
        event_store: Any,
        projections: Sequence[Projection],
        watcher: LogWatcher,
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
    ) -> None:
        super().__init__(dsn, event_store, projections, watcher, poll_seconds=poll_seconds)
        self._batch_size = batch_size

    def step(self, conn: psycopg.Connection[Any], projection: Projection, position: int) -> bool:
        notifications = self._event_store.recorder.select_notifications(
            start=position + 1, limit=self._batch_size
        )
        if not notifications:
            return False
        try:
            project(conn, self._event_store, projection, position, notifications)
        except PositionMoved:
            raise
        except Exception as exc:
            if is_outage(exc):
                raise
            self._find_poison(conn, projection, position, notifications)
        return True

    def _find_poison(
        self,
        conn: psycopg.Connection[Any],
        projection: Projection,
        position: int,
        notifications: Sequence[Any],
    ) -> None:
        """Apply a failed batch one event at a time; stop the projection at the one that fails."""
        for notification in notifications:
            try:
                project(conn, self._event_store, projection, position, [notification])
            except PositionMoved:
                raise
            except Exception as exc:
                if is_outage(exc):
                    raise
                error = describe(exc)
                record_failure(conn, projection.name, notification.id, error)
                log.error(
                    "projection %s stopped at log position %d (%s, aggregate %s version %d): %s; "
                    "it resumes on restart or with `chronicle projections resume %s`",
                    projection.name,
                    notification.id,
                    notification.topic,
                    notification.originator_id,
                    notification.originator_version,
                    error,
                    projection.name,
                )
                return
            position = notification.id


def project(
    conn: psycopg.Connection[Any],
    event_store: Any,
    projection: Projection,
    position: int,
    notifications: Sequence[Any],
) -> None:
    """Apply ``notifications`` after ``position`` and move the position, in one transaction.

    The position moves first: a rebuild's switch, which locks the position row before the
    tables, then makes this batch fail on the position before it writes anything.
    """
    with conn.transaction(), conn.cursor() as cur:
        advance(cur, projection.name, position, notifications[-1].id)
        apply(cur, event_store, projection, notifications)


def apply(
    cur: psycopg.Cursor[Any],
    event_store: Any,
    projection: Projection,
    notifications: Sequence[Any],
) -> None:
    """Apply ``notifications`` to ``projection``'s tables in the caller's transaction.

    A projection that names the event classes it ``handles`` is given only those: the others
    are passed over by their stored topic, without decoding them.
    """
    wanted = getattr(projection, "handles", None)
    for notification in notifications:
        if wanted is None or _handled(notification.topic, wanted):
            event = decode_event(event_store.mapper, notification)
            projection.project(cur, notification.id, event)


@functools.cache
def _handled(topic: str, wanted: tuple[type, ...]) -> bool:
    try:
        return issubclass(resolve_topic(topic), wanted)
    except TopicError:  # a class that is gone: only the audit log keeps its events
        return False
