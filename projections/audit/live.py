"""The audit log's newest rows, read once per process and fanned out to every live stream.

One thread follows ``audit_log`` (woken by the log watcher's one LISTEN connection, with a
poll as the fallback for a lost notification) and hands each new row to the subscriptions
that want it, on their own event loops: a thousand streams cost one query per change, never
a database connection or a query each. It keeps the newest ``keep`` rows, so that a burst of
reconnections (a proxy reload drops every stream at once) resumes from memory; a client
further behind reads the read model first (``Subscription.history``), then the live rows.

Each subscription buffers at most ``queue_size`` rows: a client too slow to drain them is
``cut`` (it resumes by position) rather than buffered without bound.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from projections.audit.queries import COLUMNS
from projections.engine.watcher import LogWatcher

log = logging.getLogger(__name__)
AUDIT_LOG = ["audit_log"]
Row = dict[str, Any]


@dataclass(eq=False)
class Subscription:
    """What one stream receives: rows after ``after`` that ``matches`` keeps, in log order.

    ``history`` is the range ``(after, history_until]`` the stream reads from the read model
    before the rows handed to it here (empty when the tail still held them all).
    """

    matches: Callable[[Row], bool]
    after: int
    loop: asyncio.AbstractEventLoop
    limit: int
    history_until: int = 0
    cut: bool = False  # no more rows: too many were waiting, or the tail closed it
    closed: bool = False  # closed by the process's stop, not cut for its slowness
    on_cut: Callable[[], None] | None = None  # how the stream disconnects its client
    _rows: deque[Row] = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def take(self) -> list[Row]:
        """The rows received since the last call (on the stream's loop)."""
        rows = list(self._rows)
        self._rows.clear()
        self._ready.clear()
        return rows

    async def wait(self, timeout: float) -> bool:
        """Whether rows arrived (or the subscription was cut) within ``timeout``."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    def _offer(self, rows: list[Row]) -> None:
        if self.cut:
            return
        kept = [row for row in rows if row["position"] > self.after and self.matches(row)]
        if len(self._rows) + len(kept) > self.limit:
            self.cut = True
            self._rows.clear()
            if self.on_cut:
                self.on_cut()
        else:
            self._rows.extend(kept)
        if kept or self.cut:
            self._ready.set()

    def _close(self) -> None:
        self.cut = self.closed = True
        self._ready.set()


class LiveTail:
    """Follows ``audit_log`` in one thread; hands new rows to subscriptions on their loops."""

    def __init__(
        self,
        pool: ConnectionPool[Any],
        watcher: LogWatcher,
        *,
        keep: int = 10_000,
        batch: int = 1_000,
        poll_seconds: float = 1.0,
    ) -> None:
        self._pool = pool
        self._watcher = watcher
        self._batch = batch
        self._poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._rows: deque[Row] = deque(maxlen=keep)
        self._floor = 0  # every row after it is in _rows
        self._position = 0  # the newest row handed out
        self._subscriptions: list[Subscription] = []
        self._started = False
        self._closed = False  # the process stops: every subscription is closed as it comes
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="live-tail", daemon=True)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    @property
    def closed(self) -> bool:
        """Whether the process stops: every subscription is closed as it is made."""
        return self._closed

    def subscribe(self, matches: Callable[[Row], bool], after: int, limit: int) -> Subscription:
        """A subscription to rows after ``after``; the tail starts on the first one.

        Called on the stream's event loop; the rows the tail still holds are handed over at
        once, and ``history_until`` says what the stream must read first.
        """
        self._start()
        sub = Subscription(matches, after, asyncio.get_running_loop(), limit)
        with self._lock:
            if self._closed:
                sub._close()
                return sub
            if after < self._floor:
                sub.history_until = self._floor
            # What the tail holds is handed over whole: a resume is never cut for its backlog.
            sub._rows.extend(r for r in self._rows if r["position"] > after and matches(r))
            if sub._rows:
                sub._ready.set()
            self._subscriptions.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subscriptions:
                self._subscriptions.remove(sub)

    def close_all(self) -> None:
        """Close every subscription (the process stops), and each one made after: each stream
        ends at once."""
        with self._lock:
            self._closed = True
            subscriptions, self._subscriptions = self._subscriptions, []
        for sub in subscriptions:
            _call(sub.loop, sub._close)

    def stop(self) -> None:
        self._stopping.set()
        self.close_all()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _start(self) -> None:
        with self._lock:
            if self._started or self._closed:
                return
            self._started = True
            self._floor = self._position = self._newest()
        self._thread.start()

    def _newest(self) -> int:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT coalesce(max(position), 0) AS p FROM audit_log").fetchone()
        return int(row["p"]) if row else 0

    def _follow(self) -> None:
        while not self._stopping.is_set():
            try:
                rows = self._read_after(self._position)
            except (psycopg.Error, PoolTimeout) as exc:
                log.warning("live tail could not read audit_log: %s", " ".join(str(exc).split()))
                self._stopping.wait(self._poll_seconds)
                continue
            if rows:
                self._hand_out(rows)
            if len(rows) < self._batch:
                self._watcher.wait_for_change(AUDIT_LOG, self._position, self._poll_seconds)

    def _read_after(self, position: int) -> list[Row]:
        with self._pool.connection() as conn:
            cur = conn.execute(
                f"SELECT {COLUMNS} FROM audit_log WHERE position > %s ORDER BY position LIMIT %s",
                (position, self._batch),
            )
            return [dict(row) for row in cur.fetchall()]

    def _hand_out(self, rows: list[Row]) -> None:
        with self._lock:
            for row in rows:
                if len(self._rows) == self._rows.maxlen:
                    self._floor = self._rows[0]["position"]
                self._rows.append(row)
            self._position = rows[-1]["position"]
            self._subscriptions = [sub for sub in self._subscriptions if not sub.cut]
            subscriptions = list(self._subscriptions)
        for sub in subscriptions:
            _call(sub.loop, sub._offer, rows)


def _call(loop: asyncio.AbstractEventLoop, callback: Callable[..., None], *args: Any) -> None:
    try:
        loop.call_soon_threadsafe(callback, *args)
    except RuntimeError:  # its loop is closed: nobody listens any more
        pass
