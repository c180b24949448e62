"""Prometheus metrics of one app: commands, HTTP requests, and the event log's consumers.

One ``Metrics`` per built services, on its own ``CollectorRegistry`` (never the global one, so
two apps in one process, as in tests, count apart):
- commands: the executor's observer (``eventstore.metrics.CommandObserver``) gives the latency
  per command type, the answers per type and outcome (``version_conflict`` among them), the
  batches committed or rejected by the version check, and the commands of those rejected
  (sent back to run again on fresh state) per type;
- HTTP: ``count_request`` (called by ``api.middleware.RequestMiddleware``) counts each request
  by method, the matched route's path template (never the raw path, so ids do not grow the
  label set; ``unmatched`` when no route matched) and status, and times it;
- consumers: a runner step that found work is timed (``LogFollower.step_observer``); position,
  lag and open dead letters are read from the database when scraped (``LogCollector``).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

from eventstore.connections import Refusals
from eventstore.decoding import stored_time
from projections.engine.log import head_on
from projections.registry import consumer_kinds

log = logging.getLogger(__name__)
FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Each consumer, the first event it has not handled yet (for the lag in seconds).
CONSUMERS = """
    SELECT p.name, p.kind, p.position, p.state, next.state
    FROM projection_position p
    LEFT JOIN LATERAL (
        SELECT state FROM chronicle_events WHERE notification_id > p.position
        ORDER BY notification_id LIMIT 1
    ) next ON true
"""
DEAD_LETTERS = """
    SELECT reactor, state, count(*) FROM dead_letters WHERE state <> 'delivered'
    GROUP BY reactor, state ORDER BY reactor, state
"""


class Metrics:
    """The registry of one app and the metrics its parts feed."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.command_seconds = Histogram(
            "chronicle_command_seconds",
            "Command latency, queued to answered.",
            ["command"],
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self.commands = Counter(
            "chronicle_commands",
            "Commands answered, by outcome (ok or the error code).",
            ["command", "outcome"],
            registry=r,
        )
        self.batches = Counter(
            "chronicle_command_batches",
            "Command transactions: committed, or conflicted "
            "(the version check rejected them; their commands run again).",
            ["result"],
            registry=r,
        )
        self.conflicts = Counter(
            "chronicle_command_conflicts",
            "Commands whose transaction the version check rejected (each then runs again, "
            "on fresh state), by command type.",
            ["command"],
            registry=r,
        )
        self.requests = Counter(
            "chronicle_http_requests",
            "HTTP requests by route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "chronicle_http_request_seconds",
            "HTTP request latency by route template.",
            ["method", "route"],
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self.batch_seconds = Histogram(
            "chronicle_consumer_batch_seconds",
            "Time of a projection's or reactor's step that found work (one batch of events).",
            ["kind", "name"],
            buckets=FAST_BUCKETS,
            registry=r,
        )

        self.rate_limited = Counter(
            "chronicle_rate_limited",
            "Requests refused with 429 by a rate limit, by route group.",
            ["group"],
            registry=r,
        )
        self.rate_limit_failures = Counter(
            "chronicle_rate_limit_store_failures",
            "Requests whose rate limit could not be checked (the counters' store unreachable): "
            "reads went through, changes got 503.",
            registry=r,
        )

    def watch_refusals(self, refusals: Refusals) -> None:
        """Expose the connections the database refused this process (``too many clients``)."""
        self.registry.register(RefusalCollector(refusals))

    def watch_log(self, reads: ConnectionPool[Any]) -> None:
        """Read the consumers' positions, lag and dead letters from ``reads`` at each scrape."""
        self.registry.register(LogCollector(reads))

    # The executor's observer (eventstore.metrics.CommandObserver).
    def command_completed(self, command_type: str, seconds: float, outcome: str) -> None:
        """Count a command's answer and observe its latency."""
        self.command_seconds.labels(command_type).observe(seconds)
        self.commands.labels(command_type, outcome).inc()

    def batch_committed(self, size: int) -> None:
        """Count a committed transaction."""
        self.batches.labels("committed").inc()

    def batch_conflicted(self, command_types: Sequence[str]) -> None:
        """Count a transaction the version check rejected, and each command of it by type."""
        self.batches.labels("conflicted").inc()
        for command_type in command_types:
            self.conflicts.labels(command_type).inc()

    # The runners' step observer (projections.engine.follower.LogFollower.step_observer).
    def step_completed(self, kind: str, name: str, seconds: float) -> None:
        """Observe the time of one consumer's batch."""
        self.batch_seconds.labels(kind, name).observe(seconds)


class RefusalCollector(Collector):
    """The count of connections the server refused, read when scraped."""

    def __init__(self, refusals: Refusals) -> None:
        self._refusals = refusals

    def collect(self) -> Iterator[Metric]:
        yield CounterMetricFamily(
            "chronicle_database_connections_refused",
            "Connections the database refused this process (too many clients).",
            value=self._refusals.count,
        )


class LogCollector(Collector):
    """Consumers' positions and lag, the log head and open dead letters, read when scraped."""

    def __init__(self, reads: ConnectionPool[Any]) -> None:
        self._reads = reads

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("chronicle_log_up", "Whether the log could be read (1) or not.")
        try:
            with self._reads.connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
                head = head_on(conn)
                rows = cur.execute(CONSUMERS).fetchall()
                letters = cur.execute(DEAD_LETTERS).fetchall()
        except Exception as exc:  # a scrape while the database is down says so, not a 500
            log.warning("metrics could not read the log: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily("chronicle_log_head", "The last log position.", value=head)
        yield from self._consumers(head, rows)
        dead = GaugeMetricFamily(
            "chronicle_dead_letters",
            "Open dead letters per reactor and state.",
            labels=["reactor", "state"],
        )
        for reactor, state, count in letters:
            dead.add_metric([reactor, state], count)
        yield dead

    def _consumers(self, head: int, rows: list[Any]) -> Iterator[Metric]:
        labels = ["kind", "name"]
        position = GaugeMetricFamily(
            "chronicle_consumer_position", "The log position a consumer has reached.", labels=labels
        )
        lag = GaugeMetricFamily(
            "chronicle_consumer_lag_events", "Events a consumer has yet to handle.", labels=labels
        )
        lag_seconds = GaugeMetricFamily(
            "chronicle_consumer_lag_seconds",
            "Age of the oldest event a consumer has yet to handle (0 when caught up).",
            labels=labels,
        )
        failed = GaugeMetricFamily(
            "chronicle_consumer_failed",
            "1 when a consumer stopped at a failed event.",
            labels=labels,
        )
        seen = set()
        for name, kind, at, state, next_state in rows:
            seen.add(name)
            position.add_metric([kind, name], at)
            lag.add_metric([kind, name], head - at)
            lag_seconds.add_metric([kind, name], self._age(next_state))
            failed.add_metric([kind, name], 1 if state == "failed" else 0)
        for name, kind in consumer_kinds().items():  # registered, not started yet
            if name not in seen:
                position.add_metric([kind, name], 0)
                lag.add_metric([kind, name], head)
        yield from (position, lag, lag_seconds, failed)

    def _age(self, state: bytes | None) -> float:
        """Seconds since the event stored as ``state`` happened; 0 for none or an unreadable one."""
        happened = stored_time(state)
        return max(0.0, (datetime.now(UTC) - happened).total_seconds()) if happened else 0.0


def count_request(services: Any, scope: dict[str, Any], status: int, seconds: float) -> None:
    """Count and time one answered HTTP request by its route's path template and status."""
    metrics: Metrics | None = getattr(services, "metrics", None)
    if metrics is not None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = scope["method"]
        metrics.requests.labels(method, route, str(status)).inc()
        metrics.request_seconds.labels(method, route).observe(seconds)


def is_loopback(host: str | None) -> bool:
    """Whether a client at ``host`` is on this machine (an unknown or unparsable host is not)."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return bool((mapped or address).is_loopback)
