"""The connection budget: what a configuration can hold at most, planned before anything opens.

Every pool opens one connection and grows only to the number of threads that can hold one of
its connections at once; the budget adds those maxima over every process and compares the sum
with what the server admits (``max_connections`` less the superuser's and the reserved slots,
less a margin left to operators). A configuration that cannot fit is refused at start, naming
both numbers, rather than meeting ``too many clients`` at run time.

A refusal met anyway (another client took the slots) is an outage: ``REFUSALS`` counts it for
``/metrics`` and logs it once per episode, not once per attempt.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import psycopg

log = logging.getLogger(__name__)

# Left to operators beside the service: a rebuild, `projections status`, an export, psql.
OPERATOR_MARGIN = 5
# What the embedded server admits beyond the plan: the margin, with room for a few more.
EMBEDDED_HEADROOM = 20
SUPERUSER_RESERVED = 3  # PostgreSQL's default superuser_reserved_connections


@dataclass(frozen=True)
class ConnectionPlan:
    """The most connections a configuration can hold on its primary server, by part."""

    threads: int  # request threads of one API process
    workers: int  # API processes
    consumers: int  # projections and reactors run once, in one process (0: elsewhere)
    reactors: int  # of which reactors (they also read through the query pool)

    def store_pool(self, *, serves_requests: bool, runs_consumers: bool) -> int:
        """The event store's pool: the command and snapshot writers, requests, consumers."""
        requests = self.threads if serves_requests else 0
        consumers = self.consumers + 1 if runs_consumers else 0  # + the deadline loop
        return 2 + requests + consumers

    def read_pool(self, *, serves_requests: bool, runs_consumers: bool) -> int:
        """The query pool on the primary: requests (and the live tail between them), the
        reactors and the deadline loop."""
        requests = self.threads if serves_requests else 0
        consumers = self.reactors + 1 if runs_consumers else 0
        return max(1, requests + consumers)

    def process(self, *, serves_requests: bool, runs_consumers: bool) -> int:
        """One process: its two pools, its log watcher, and a connection per consumer."""
        return (
            self.store_pool(serves_requests=serves_requests, runs_consumers=runs_consumers)
            + self.read_pool(serves_requests=serves_requests, runs_consumers=runs_consumers)
            + 1
            + (self.consumers if runs_consumers else 0)
        )

    @property
    def total(self) -> int:
        """Every process of the configuration: N API processes, the consumers once."""
        if self.workers == 1:
            return self.process(serves_requests=True, runs_consumers=self.consumers > 0)
        api = self.workers * self.process(serves_requests=True, runs_consumers=False)
        if not self.consumers:
            return api
        return api + self.process(serves_requests=False, runs_consumers=True)

    def threads_that_fit(self, available: int) -> int:
        """The most request threads per process that fit ``available`` (0: none does)."""
        for threads in range(self.threads, 0, -1):
            smaller = ConnectionPlan(threads, self.workers, self.consumers, self.reactors)
            if smaller.total <= available:
                return threads
        return 0


class ConnectionBudgetExceeded(Exception):
    """The configuration can hold more connections than the server admits."""


@dataclass(frozen=True)
class ServerCapacity:
    """What a PostgreSQL server admits to ordinary clients."""

    max_connections: int
    reserved: int  # superuser_reserved_connections, plus reserved_connections (PostgreSQL 16+)

    @property
    def available(self) -> int:
        """Connections left to this service once the reserved slots and the margin are set apart."""
        return self.max_connections - self.reserved - OPERATOR_MARGIN


def server_capacity(dsn: str) -> ServerCapacity:
    """The server's ``max_connections`` and the slots it keeps for superusers and roles."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT name, setting::int FROM pg_settings WHERE name IN "
            "('max_connections', 'superuser_reserved_connections', 'reserved_connections')"
        ).fetchall()
    found: dict[str, int] = {name: int(value) for name, value in rows}
    reserved = found.get("superuser_reserved_connections", 0) + found.get("reserved_connections", 0)
    return ServerCapacity(found["max_connections"], reserved)


def embedded_max_connections(plan: ConnectionPlan) -> int:
    """The ``max_connections`` an embedded server is started with, to hold ``plan``."""
    return max(100, plan.total + SUPERUSER_RESERVED + EMBEDDED_HEADROOM)


def check_fits(plan: ConnectionPlan, capacity: ServerCapacity) -> None:
    """Raise ``ConnectionBudgetExceeded`` naming the numbers if ``plan`` cannot fit the server."""
    if plan.total <= capacity.available:
        return
    needed = plan.total + capacity.reserved + OPERATOR_MARGIN
    threads = plan.threads_that_fit(capacity.available)
    fits = (
        f"CHRONICLE_THREADS={threads} would fit"
        if threads
        else "fewer --workers would be needed (no number of threads fits)"
    )
    raise ConnectionBudgetExceeded(
        f"this configuration can hold {plan.total} database connections "
        f"({plan.workers} API process(es) of {plan.threads} threads"
        f"{', projectors once' if plan.consumers else ''}) but the server admits "
        f"{capacity.available} (max_connections {capacity.max_connections} less "
        f"{capacity.reserved} reserved and {OPERATOR_MARGIN} left to operators): {fits}, "
        f"or raise the server's max_connections to {needed}"
    )


class Refusals:
    """Connections the server refused (``too many clients``): counted, logged once per episode."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self.active = False

    def refused(self, where: str, exc: BaseException) -> None:
        """Note one refusal; the first of an episode is logged."""
        with self._lock:
            self.count += 1
            first, self.active = not self.active, True
        if first:
            log.warning(
                "the database refused a connection (%s: %s); requests needing one answer 503 "
                "until it admits them again",
                where,
                " ".join(str(exc).split()),
            )

    def admitted(self) -> None:
        """A connection was made: an episode of refusals, if any, is over."""
        if not self.active:
            return
        with self._lock:
            ended, self.active = self.active, False
        if ended:
            log.warning("the database admits connections again (%d refused so far)", self.count)


REFUSALS = Refusals()


def is_refusal(exc: BaseException) -> bool:
    """Whether ``exc`` is the server refusing a connection for want of slots."""
    if isinstance(exc, psycopg.errors.TooManyConnections):
        return True
    return "too many clients" in str(exc) or "remaining connection slots" in str(exc)


def watch_connects(pool: Any, where: str) -> None:
    """Count the refusals met by ``pool`` when it opens a connection (a psycopg pool)."""
    connect = pool._connect  # psycopg_pool's one way to a new connection

    def counted(*args: Any, **kwargs: Any) -> Any:
        try:
            conn = connect(*args, **kwargs)
        except psycopg.OperationalError as exc:
            if is_refusal(exc):
                REFUSALS.refused(where, exc)
            raise
        REFUSALS.admitted()
        return conn

    pool._connect = counted
    _quiet_pool_log()


class _DropRefusals(logging.Filter):
    """psycopg_pool warns at every failed attempt; a refusal is logged once per episode here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not is_refusal(Exception(record.getMessage()))


_POOL_LOG_FILTER = _DropRefusals()


def _quiet_pool_log() -> None:
    logging.getLogger("psycopg.pool").addFilter(_POOL_LOG_FILTER)  # once: filters are a set
