"""LISTEN/NOTIFY in one thread per process: wakes projectors on new events, tracks positions.

Notifications are only a hint: a lost one is covered by the pollers' timeouts, and
positions are re-read from ``projection_position`` whenever a waiter asks.
"""

from __future__ import annotations

import logging
import threading
import time

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

EVENTS_CHANNEL = "chronicle_events"
POSITIONS_CHANNEL = "chronicle_projections"

log = logging.getLogger(__name__)


class LogWatcher:
    """Counts event-log notifications and remembers the projections' positions."""

    def __init__(self, dsn: str, *, refresh_seconds: float = 0.5) -> None:
        self._dsn = dsn
        self._refresh_seconds = refresh_seconds
        self._changed = threading.Condition()
        self._events_seen = 0
        self._positions: dict[str, int] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="log-watcher", daemon=True)
        self._pool = ConnectionPool(
            dsn, min_size=1, max_size=2, kwargs={"autocommit": True}, open=False
        )

    def start(self) -> LogWatcher:
        self._pool.open()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._pool.close()

    def wake(self) -> None:
        """Wake every ``wait_for_events`` caller now (as a new event would)."""
        with self._changed:
            self._events_seen += 1
            self._changed.notify_all()

    @property
    def events_seen(self) -> int:
        return self._events_seen

    def wait_for_events(self, seen: int, timeout: float) -> None:
        """Return once a notification newer than ``seen`` arrived, or after ``timeout``."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._events_seen != seen or self._stopping.is_set(), timeout
            )

    def wait_for_position(self, names: list[str], position: int, timeout: float) -> bool:
        """Whether every projection in ``names`` reached ``position`` within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            if self._reached(names, position):
                return True
            self._refresh_positions()
            if self._reached(names, position):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._changed:
                self._changed.wait_for(
                    lambda: self._reached(names, position),
                    min(remaining, self._refresh_seconds),
                )

    def _reached(self, names: list[str], position: int) -> bool:
        return all(self._positions.get(name, 0) >= position for name in names)

    def _refresh_positions(self) -> None:
        try:
            with self._pool.connection() as conn:
                rows = conn.execute("SELECT name, position FROM projection_position").fetchall()
        except (psycopg.Error, PoolTimeout):
            log.warning("could not read projection positions", exc_info=True)
            return
        with self._changed:
            for name, position in rows:
                self._note_position(name, position)
            self._changed.notify_all()

    def _note_position(self, name: str, position: int) -> None:
        if position > self._positions.get(name, 0):
            self._positions[name] = position

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    conn.execute(f"LISTEN {POSITIONS_CHANNEL}")
                    while not self._stopping.is_set():
                        for notify in conn.notifies(timeout=0.1):
                            self._on_notify(notify.channel, notify.payload)
            except psycopg.Error:
                log.warning("lost the LISTEN connection; reconnecting", exc_info=True)
                self._stopping.wait(1.0)

    def _on_notify(self, channel: str, payload: str) -> None:
        with self._changed:
            if channel == EVENTS_CHANNEL:
                self._events_seen += 1
            else:
                name, _, position = payload.rpartition(":")
                self._note_position(name, int(position))
            self._changed.notify_all()
