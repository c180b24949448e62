"""LISTEN/NOTIFY in one thread per process: wakes projectors on new events, tracks positions.

Notifications are only a hint: a lost one is covered by the pollers' timeouts, and
positions are re-read from ``projection_position`` whenever a waiter asks (and every
``refresh_seconds`` while an asynchronous waiter waits).

Requests wait asynchronously (``reached``): a waiting request holds no thread, only a
future that this thread resolves on the request's event loop once the position is reached.

Other channels ride on the same connection (``on_channel``): the assistant's partial replies
reach every socket of a process through it, still one LISTEN connection per process.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool, PoolTimeout

from eventstore.connections import REFUSALS, is_refusal
from eventstore.database import connect_timeout

EVENTS_CHANNEL = "chronicle_events"
POSITIONS_CHANNEL = "chronicle_projections"

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Waiter:
    """A request waiting on its event loop for projections to reach a position."""

    names: tuple[str, ...]
    position: int
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[bool]


class LogWatcher:
    """Counts event-log notifications and remembers the projections' positions."""

    def __init__(
        self,
        dsn: str,
        *,
        pool: ConnectionPool[Any] | None = None,
        refresh_seconds: float = 0.5,
        wait_seconds: float = 3.0,
    ) -> None:
        self._dsn = dsn
        self._refresh_seconds = refresh_seconds
        self._changed = threading.Condition()
        self._events_seen = 0
        self._positions: dict[str, int] = {}
        self._waiters: list[_Waiter] = []
        self._channels: dict[str, Callable[[str], None]] = {}
        self._refresh_now = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="log-watcher", daemon=True)
        self._connect_timeout = connect_timeout(wait_seconds)
        # Positions read outside the watcher's thread borrow a connection from the process's
        # query pool on the same database: the watcher itself holds one connection, its LISTEN.
        self._owns_pool = pool is None
        self._pool = pool or ConnectionPool(
            dsn,
            min_size=1,
            max_size=1,
            kwargs={"autocommit": True, "connect_timeout": self._connect_timeout},
            open=False,
            timeout=wait_seconds,
        )

    def start(self) -> LogWatcher:
        if self._owns_pool:
            self._pool.open()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self._owns_pool:
            self._pool.close()

    def on_channel(self, channel: str, deliver: Callable[[str], None]) -> None:
        """LISTEN on ``channel`` too, handing each payload to ``deliver`` (in this thread: it
        must not block). ``channel`` is a constant identifier, never a caller's text."""
        if not channel.isidentifier():
            raise ValueError(f"not a channel name: {channel!r}")
        self._channels[channel] = deliver

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

    def wait_for_change(self, names: list[str], position: int, timeout: float) -> bool:
        """Whether ``names`` passed ``position`` within ``timeout``, as notifications tell.

        It reads nothing itself: a caller that must not miss a lost notification polls what
        it follows after a timeout (the live tail reads its rows).
        """
        with self._changed:
            return self._changed.wait_for(
                lambda: self._reached(names, position + 1) or self._stopping.is_set(), timeout
            )

    def has_reached(self, names: list[str], position: int) -> bool:
        """Whether every projection in ``names`` is known to have reached ``position``."""
        return self._reached(names, position)

    async def reached(self, names: list[str], position: int, timeout: float) -> bool:
        """Whether every projection in ``names`` reached ``position`` within ``timeout``.

        Awaits on the caller's event loop, holding no thread while it waits.
        """
        if self._reached(names, position):
            return True
        loop = asyncio.get_running_loop()
        waiter = _Waiter(tuple(names), position, loop, loop.create_future())
        with self._changed:
            self._waiters.append(waiter)
            self._release_waiters()  # reached meanwhile
        self._refresh_now.set()  # what we know may be stale: a notification can be lost
        try:
            return await asyncio.wait_for(waiter.future, timeout)
        except TimeoutError:
            return False
        finally:
            with self._changed:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    def _reached(self, names: list[str] | tuple[str, ...], position: int) -> bool:
        return all(self._positions.get(name, 0) >= position for name in names)

    def _refresh_positions(self) -> None:
        try:
            with self._pool.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
                rows = cur.execute("SELECT name, position FROM projection_position").fetchall()
        except (psycopg.Error, PoolTimeout) as exc:
            log.warning("could not read projection positions: %s", _one_line(exc))
            return
        self._note_positions(rows)

    def _note_positions(self, rows: list[tuple[str, int]]) -> None:
        with self._changed:
            for name, position in rows:
                self._note_position(name, position)
            self._changed.notify_all()

    def _note_position(self, name: str, position: int) -> None:
        if position > self._positions.get(name, 0):
            self._positions[name] = position
            self._release_waiters()

    def _release_waiters(self) -> None:
        """Resolve, on their own loops, the waiters whose position is reached (lock held)."""
        for waiter in [w for w in self._waiters if self._reached(w.names, w.position)]:
            self._waiters.remove(waiter)
            try:
                waiter.loop.call_soon_threadsafe(_resolve, waiter.future)
            except RuntimeError:  # its loop is closed: nobody waits any more
                pass

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                with psycopg.connect(
                    self._dsn, autocommit=True, connect_timeout=self._connect_timeout
                ) as conn:
                    REFUSALS.admitted()
                    conn.execute(f"LISTEN {EVENTS_CHANNEL}")
                    conn.execute(f"LISTEN {POSITIONS_CHANNEL}")
                    listening: set[str] = set()
                    refreshed = 0.0
                    while not self._stopping.is_set():
                        for channel in set(self._channels) - listening:
                            conn.execute(f"LISTEN {channel}")
                            listening.add(channel)
                        for notify in conn.notifies(timeout=0.1):
                            self._on_notify(notify.channel, notify.payload)
                        if self._waiters and (
                            self._refresh_now.is_set()
                            or time.monotonic() - refreshed > self._refresh_seconds
                        ):
                            self._refresh_now.clear()
                            refreshed = time.monotonic()
                            query = "SELECT name, position FROM projection_position"
                            self._note_positions(conn.execute(query).fetchall())
            except psycopg.Error as exc:
                if is_refusal(exc):
                    REFUSALS.refused("log watcher", exc)  # once per episode, not every second
                else:
                    log.warning("lost the LISTEN connection (%s); reconnecting", _one_line(exc))
                self._stopping.wait(1.0)

    def _on_notify(self, channel: str, payload: str) -> None:
        deliver = self._channels.get(channel)
        if deliver is not None:
            try:
                deliver(payload)
            except Exception:  # one bad payload never stops the watcher
                log.exception("could not deliver a notification on %s", channel)
            return
        with self._changed:
            if channel == EVENTS_CHANNEL:
                self._events_seen += 1
            else:
                name, _, position = payload.rpartition(":")
                if position.isdigit():
                    self._note_position(name, int(position))
            self._changed.notify_all()


class ReplicaWatcher(LogWatcher):
    """The projections' positions as a streaming replica has replayed them, for its readers.

    A hot standby replicates no notifications (and refuses LISTEN), so its positions are
    polled: every ``poll_seconds`` while a request waits, not at all otherwise. A position
    read here was committed on the primary first, so a query on the replica that waited
    for it sees the write that made it (read-your-writes through the replica's lag).
    """

    def __init__(
        self,
        dsn: str,
        *,
        pool: ConnectionPool[Any] | None = None,
        poll_seconds: float = 0.01,
        wait_seconds: float = 3.0,
    ) -> None:
        super().__init__(dsn, pool=pool, refresh_seconds=poll_seconds, wait_seconds=wait_seconds)
        self._thread.name = "replica-watcher"

    def stop(self) -> None:
        self._stopping.set()
        self._refresh_now.set()  # out of an idle wait at once
        super().stop()

    def _listen(self) -> None:
        while not self._stopping.is_set():
            self._refresh_now.wait()
            self._refresh_now.clear()
            while self._waiters and not self._stopping.is_set():
                self._refresh_positions()
                self._stopping.wait(self._refresh_seconds)


def _resolve(future: asyncio.Future[bool]) -> None:
    if not future.done():
        future.set_result(True)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
