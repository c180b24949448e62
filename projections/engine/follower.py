"""Following the event log: one thread per consumer, one active instance, woken by NOTIFY.

Shared by the projection runner (read models, exactly once) and the reactor runner (side
effects, at least once). Each consumer runs in its own thread with its own connection:
- one active instance per consumer across processes (a session advisory lock; a second
  instance waits as a standby and takes over when the first one's connection goes);
- its position is a row of ``projection_position`` (``kind`` says projection or reactor), and
  each move is announced on the positions channel the watcher listens to;
- woken by NOTIFY on new events, with a polling fallback so a lost notification never stalls it;
- an outage (``projections.engine.outages``: the SQLSTATE decides, not the exception class)
  pauses it with one WARNING line and it tries again; any other error is logged with its
  traceback and the consumer restarts, backing off;
- a consumer recorded ``failed`` (a projection's poison event) idles, holding its lock, until an
  operator resumes it (``chronicle projections resume``) or its process restarts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, Self, TypeVar

import psycopg

from eventstore.connections import REFUSALS, is_refusal
from projections.engine.outages import is_outage
from projections.engine.watcher import EVENTS_CHANNEL, POSITIONS_CHANNEL, LogWatcher

log = logging.getLogger(__name__)
MAX_RESTART_SECONDS = 60.0


class Consumer(Protocol):
    """Anything that follows the log under a name: a projection or a reactor."""

    name: str


C = TypeVar("C", bound=Consumer)


class LogFollower(Generic[C]):
    """Runs each consumer in its own thread until stopped; subclasses say what a step does."""

    kind = "projection"

    def __init__(
        self,
        dsn: str,
        event_store: Any,
        consumers: Sequence[C],
        watcher: LogWatcher,
        *,
        poll_seconds: float = 1.0,
    ) -> None:
        self._dsn = dsn
        self._event_store = event_store
        self._consumers = consumers
        self._watcher = watcher
        self._poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        # Told (kind, name, seconds) after each step that found work; set before start (metrics).
        self.step_observer: Callable[[str, str, float], None] | None = None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self._consumers]

    def start(self) -> Self:
        for consumer in self._consumers:
            thread = threading.Thread(
                target=self._run, args=(consumer,), name=f"{self.kind}-{consumer.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._watcher.wake()
        for thread in self._threads:
            thread.join(timeout=10)

    def step(self, conn: psycopg.Connection[Any], consumer: C, position: int) -> bool:
        """Handle what follows ``position``; whether there was anything (then step again now)."""
        raise NotImplementedError

    def _run(self, consumer: C) -> None:
        first, restarted = True, 0
        while not self._stopping.is_set():
            began = time.monotonic()
            try:
                with psycopg.connect(self._dsn, autocommit=True) as conn:
                    REFUSALS.admitted()
                    if self._lead(conn, consumer, first=first):
                        first = False
                        self._follow(conn, consumer)
                    return
            except Exception as exc:
                if self._stopping.is_set() and is_outage(exc):
                    return
                if isinstance(exc, Unreachable) or is_outage(exc):
                    # An outage is not the consumer's fault: one line, no traceback, try again.
                    if is_refusal(exc):  # logged once per episode, for every consumer at once
                        REFUSALS.refused(f"{self.kind} {consumer.name}", exc)
                    else:
                        log.warning("%s %s paused: %s", self.kind, consumer.name, str(exc).strip())
                else:
                    log.exception("%s %s failed; restarting it", self.kind, consumer.name)
            restarted = 1 if time.monotonic() - began > MAX_RESTART_SECONDS else restarted + 1
            # Backs off so that a fault that repeats cannot log a traceback every second.
            pause = min(self._poll_seconds * 2 ** min(restarted - 1, 10), MAX_RESTART_SECONDS)
            self._stopping.wait(pause)

    def _lead(self, conn: psycopg.Connection[Any], consumer: C, *, first: bool) -> bool:
        """Wait, as a standby, until this instance holds the consumer's lock."""
        conn.execute(
            "INSERT INTO projection_position (name, kind) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (consumer.name, self.kind),
        )
        # While it waits, it holds a shared lock that ``projection_status`` counts as a standby.
        conn.execute(f"SELECT pg_advisory_lock_shared({STANDBY_KEY})", (consumer.name,))
        while not self._stopping.is_set():
            row = conn.execute(f"SELECT pg_try_advisory_lock({LEADER_KEY})", (consumer.name,))
            if (row.fetchone() or (False,))[0]:
                conn.execute(f"SELECT pg_advisory_unlock_shared({STANDBY_KEY})", (consumer.name,))
                if first:  # a process that starts gives a failed consumer another try
                    resume(conn, consumer.name)
                log.info("%s %s is active here", self.kind, consumer.name)
                return True
            self._stopping.wait(self._poll_seconds)
        return False

    def _follow(self, conn: psycopg.Connection[Any], consumer: C) -> None:
        while not self._stopping.is_set():
            seen = self._watcher.events_seen
            position, state = read_state(conn, consumer.name)
            began = time.monotonic()
            try:
                found = state != "failed" and self.step(conn, consumer, position)
            except PositionMoved:
                # A rebuild switched this projection's tables and set its position: the batch
                # was rolled back; read the position again and go on from there.
                log.info("%s %s: its position was moved by a rebuild", self.kind, consumer.name)
                continue
            if not found:
                self._watcher.wait_for_events(seen, self._poll_seconds)
            elif self.step_observer is not None:
                self.step_observer(self.kind, consumer.name, time.monotonic() - began)


LEADER_KEY = "hashtext('chronicle.projection.' || %s)::bigint"  # held by the active instance
STANDBY_KEY = "hashtext('chronicle.standby.' || %s)::bigint"  # shared by each waiting one


class Unreachable(Exception):
    """A step could not reach something it depends on; the consumer pauses and tries again."""


class PositionMoved(Exception):
    """Something else moved this consumer's position under it: a rebuild's switch."""


def read_state(conn: psycopg.Connection[Any], name: str) -> tuple[int, str]:
    """The position and state (``active`` or ``failed``) of consumer ``name``."""
    row = conn.execute(
        "SELECT position, state FROM projection_position WHERE name = %s", (name,)
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else (0, "active")


def read_position(conn: psycopg.Connection[Any], name: str) -> int:
    """The log position consumer ``name`` has reached (0 before its first event)."""
    return read_state(conn, name)[0]


def advance(cur: psycopg.Cursor[Any], name: str, position: int, to: int) -> None:
    """Move ``name`` from ``position`` to ``to`` in the caller's transaction, and announce it."""
    cur.execute(
        "UPDATE projection_position SET position = %s, updated_at = now() "
        "WHERE name = %s AND position = %s",
        (to, name, position),
    )
    if cur.rowcount != 1:
        raise PositionMoved(f"{name} moved under this instance")
    cur.execute("SELECT pg_notify(%s, %s)", (POSITIONS_CHANNEL, f"{name}:{to}"))


def record_failure(conn: psycopg.Connection[Any], name: str, position: int, error: str) -> None:
    """Mark ``name`` failed at log ``position`` with ``error``."""
    conn.execute(
        "UPDATE projection_position SET state = 'failed', failed_position = %s, error = %s, "
        "failed_at = now() WHERE name = %s",
        (position, error, name),
    )


def resume(conn: psycopg.Connection[Any], name: str) -> bool:
    """Mark ``name`` active again and wake its runner; whether it was failed."""
    cur = conn.execute(
        "UPDATE projection_position SET state = 'active', failed_position = NULL, error = NULL, "
        "failed_at = NULL WHERE name = %s AND state = 'failed'",
        (name,),
    )
    if cur.rowcount != 1:
        return False
    conn.execute("SELECT pg_notify(%s, '')", (EVENTS_CHANNEL,))
    return True


def describe(exc: BaseException, limit: int = 2000) -> str:
    """One line naming an error, short enough to store."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
