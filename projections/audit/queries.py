"""The audit log's lists: events newest first by filter, a request's events, an aggregate's.

They read the ``audit_log`` read model, newest first by log ``position`` (which is also the
cursor: the next page is the rows below it); time travel is ``projections.audit.history``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

COLUMNS = """position, recorded_at, aggregate_type, aggregate_id, version, event_type, topic,
    resolved, actor, correlation_id, causation_id, data"""


@dataclass(frozen=True)
class EventFilter:
    """Which events a list keeps; a field left None keeps every event."""

    aggregate_type: str | None = None
    aggregate_id: UUID | None = None
    event_type: str | None = None
    actor: str | None = None
    correlation_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> tuple[list[str], list[Any]]:
        """The SQL conditions and parameters (each filter has an index ending in position)."""
        where, params = ["TRUE"], []
        for column in EQUAL:
            value = getattr(self, column)
            if value is not None:
                where.append(f"{column} = %s")
                params.append(value)
        if self.since is not None:
            where.append("recorded_at >= %s")
            params.append(self.since)
        if self.until is not None:
            where.append("recorded_at < %s")
            params.append(self.until)
        return where, params

    def matches(self, row: dict[str, Any]) -> bool:
        """Whether ``row`` (an ``audit_log`` row) passes, as ``where`` would decide."""
        return (
            all(getattr(self, c) is None or row[c] == getattr(self, c) for c in EQUAL)
            and (self.since is None or row["recorded_at"] >= self.since)
            and (self.until is None or row["recorded_at"] < self.until)
        )


EQUAL = ("aggregate_type", "aggregate_id", "event_type", "actor", "correlation_id")


def list_events(
    pool: ConnectionPool, filters: EventFilter, *, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """The newest ``limit`` events that match ``filters``, below position ``before``."""
    with pool.connection() as conn:
        rows = conn.execute(*events_query(filters, before=before, limit=limit)).fetchall()
    return [dict(r) for r in rows]


def events_query(filters: EventFilter, *, before: int | None, limit: int) -> tuple[str, list[Any]]:
    """The SQL and parameters of ``list_events``."""
    where, params = filters.where()
    if before is not None:
        where.append("position < %s")
        params.append(before)
    params.append(limit)
    sql = f"SELECT {COLUMNS} FROM audit_log WHERE {' AND '.join(where)} "
    return sql + "ORDER BY position DESC LIMIT %s", params


def list_correlated_events(
    pool: ConnectionPool, correlation_id: str, *, limit: int
) -> list[dict[str, Any]]:
    """Every event one request caused (its correlation id), in log order."""
    return _in_log_order(pool, "correlation_id", correlation_id, limit)


def list_aggregate_events(
    pool: ConnectionPool, aggregate_id: UUID, *, limit: int
) -> list[dict[str, Any]]:
    """The events of one aggregate, in version order."""
    return _in_log_order(pool, "aggregate_id", aggregate_id, limit)


def _in_log_order(
    pool: ConnectionPool, column: str, value: Any, limit: int
) -> list[dict[str, Any]]:
    """The first ``limit`` rows whose ``column`` (a fixed name, never input) equals ``value``."""
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {COLUMNS} FROM audit_log WHERE {column} = %s ORDER BY position LIMIT %s",
            (value, limit),
        ).fetchall()
    return [dict(r) for r in rows]
