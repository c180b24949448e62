"""The projector runner: follows the event log in batches, exactly once into read models.

Each projection runs in its own thread with its own connection:
- one active instance per projection across processes (a session advisory lock; a second
  instance waits as a standby and takes over when the first one's connection goes);
- many events per transaction: the projection's writes and its new position commit together,
  so a crash anywhere leaves the read model and its position consistent;
- never skips a late commit: the event store locks its table for every insert, so commit
  order is notification order, and reading ``notification_id > position`` cannot pass over
  an event that commits later;
- woken by NOTIFY on new events, with a polling fallback so a lost notification never stalls it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import psycopg

from projections.watcher import POSITIONS_CHANNEL, LogWatcher

log = logging.getLogger(__name__)


class Projection(Protocol):
    """A read model built from the event log."""

    name: str

    def project(self, cur: psycopg.Cursor[Any], position: int, event: Any) -> None:
        """Apply one event (at log ``position``) to the read model."""
        ...


class ProjectionRunner:
    """Runs ``projections`` until stopped, each in its own thread."""

    def __init__(
        self,
        dsn: str,
        app: Any,
        projections: Sequence[Projection],
        watcher: LogWatcher,
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
    ) -> None:
        self._dsn = dsn
        self._app = app
        self._projections = projections
        self._watcher = watcher
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def names(self) -> list[str]:
        return [p.name for p in self._projections]

    def start(self) -> ProjectionRunner:
        for projection in self._projections:
            thread = threading.Thread(
                target=self._run,
                args=(projection,),
                name=f"projection-{projection.name}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._watcher.wake()
        for thread in self._threads:
            thread.join(timeout=10)

    def _run(self, projection: Projection) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True) as conn:
                    if self._lead(conn, projection):
                        self._follow(conn, projection)
            except psycopg.OperationalError:
                log.warning("projection %s lost its connection", projection.name, exc_info=True)
                self._stopping.wait(self._poll_seconds)
            except Exception:
                log.exception("projection %s failed; restarting it", projection.name)
                self._stopping.wait(self._poll_seconds)

    def _lead(self, conn: psycopg.Connection[Any], projection: Projection) -> bool:
        """Wait, as a standby, until this instance holds the projection's lock."""
        conn.execute(
            "INSERT INTO projection_position (name) VALUES (%s) ON CONFLICT DO NOTHING",
            (projection.name,),
        )
        while not self._stopping.is_set():
            row = conn.execute(
                "SELECT pg_try_advisory_lock(hashtext('chronicle.projection.' || %s))",
                (projection.name,),
            ).fetchone()
            if row and row[0]:
                log.info("projection %s is active here", projection.name)
                return True
            self._stopping.wait(self._poll_seconds)
        return False

    def _follow(self, conn: psycopg.Connection[Any], projection: Projection) -> None:
        while not self._stopping.is_set():
            seen = self._watcher.events_seen
            if not run_batch(conn, self._app, projection, self._batch_size):
                self._watcher.wait_for_events(seen, self._poll_seconds)


def run_batch(conn: psycopg.Connection[Any], app: Any, projection: Projection, limit: int) -> int:
    """Project the next ``limit`` events in one transaction; return how many were read."""
    position = read_position(conn, projection.name)
    notifications = app.recorder.select_notifications(start=position + 1, limit=limit)
    if not notifications:
        return 0
    last = notifications[-1].id
    with conn.transaction(), conn.cursor() as cur:
        for notification in notifications:
            projection.project(cur, notification.id, app.mapper.to_domain_event(notification))
        cur.execute(
            "UPDATE projection_position SET position = %s, updated_at = now() "
            "WHERE name = %s AND position = %s",
            (last, projection.name, position),
        )
        if cur.rowcount != 1:
            raise RuntimeError(f"projection {projection.name} moved under this instance")
        cur.execute("SELECT pg_notify(%s, %s)", (POSITIONS_CHANNEL, f"{projection.name}:{last}"))
    return len(notifications)


def read_position(conn: psycopg.Connection[Any], name: str) -> int:
    """The log position projection ``name`` has reached (0 before its first event)."""
    row = conn.execute(
        "SELECT position FROM projection_position WHERE name = %s", (name,)
    ).fetchone()
    return int(row[0]) if row else 0
