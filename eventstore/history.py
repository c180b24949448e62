"""The event log for analysts: every stored event, decoded, in log order, as plain values.

``read_events`` pages the log by position (``notification_id > last ORDER BY notification_id
LIMIT page_size``, in PostgreSQL's binary format), so memory stays flat however long the log is.
Each event reads as the application's own mapper reads it (same transcoder, same upcasters), so
an old stored shape reads as the current one; most events are read straight from their stored
JSON (``eventstore.storedstate``, several times faster), the rest go through the mapper. An
event whose topic no longer resolves (or whose state no longer decodes) is still yielded, with
its topic and its raw stored data: history is never refused.

    from eventstore.history import read_events

    for event in read_events(dsn, event_types=["UserCredits.Committed"]):
        print(event.recorded_at, event.aggregate_id, event.data["consumed"])
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper, StoredEvent
from psycopg import sql

from eventstore.application import Chronicle
from eventstore.decoding import decode_event, describe_event
from eventstore.storedstate import EventClasses, plain_event

EVENTS_TABLE = "chronicle_events"  # the application's name is its table's name (schema)
LAST_POSITION = 2**63 - 1


@dataclass(frozen=True)
class HistoryEvent:
    """One stored event as an analyst sees it: where, when, who, what, and its own fields."""

    position: int
    recorded_at: datetime | None  # the event's timestamp (None only for undecodable raw data)
    aggregate_type: str  # "UserCredits"
    aggregate_id: UUID
    version: int
    event_type: str  # "UserCredits.Reserved"
    actor: str
    correlation_id: str
    causation_id: str
    data: dict[str, Any]  # the event's own fields, JSON-ready
    topic: str  # as stored: "domain.usercredits:UserCredits.Reserved"


def read_events(
    dsn: str,
    *,
    event_types: Sequence[str] | None = None,
    aggregate_type: str | None = None,
    from_position: int | None = None,
    to_position: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page_size: int = 10_000,
) -> Iterator[HistoryEvent]:
    """The events of the log on ``dsn`` in log order, filtered, read page by page.

    ``event_types`` ("UserCredits.Reserved", ...) and ``aggregate_type`` ("Job") select by
    the stored topic; ``from_position`` and ``to_position`` are inclusive; ``since`` is
    inclusive and ``until`` exclusive, both on the event's timestamp (time zone required).
    """
    for text in [aggregate_type or "", *(event_types or ())]:
        if "\x00" in text:
            raise ValueError("an event type or aggregate type must not contain U+0000")
    for name, moment in (("since", since), ("until", until)):
        if moment is not None and moment.tzinfo is None:
            raise ValueError(f"{name} must carry a time zone (for instance 2026-01-31T00:00:00Z)")
    if page_size < 1:
        raise ValueError(f"page_size must be at least 1, not {page_size}")
    query, params = _page_query(event_types, aggregate_type, to_position)
    mapper, classes = history_mapper(), EventClasses()
    after = max(0, from_position - 1) if from_position is not None else 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        cursor = conn.cursor(binary=True)  # bytea as it is stored, not as hex text: half the bytes
        while True:
            rows = cursor.execute(query, {**params, "after": after, "limit": page_size}).fetchall()
            for position, originator_id, version, topic, state in rows:
                event = decode(mapper, position, originator_id, version, topic, state, classes)
                if _within(event.recorded_at, since, until):
                    yield event
            if len(rows) < page_size:
                return
            after = rows[-1][0]


def _page_query(
    event_types: Sequence[str] | None, aggregate_type: str | None, to_position: int | None
) -> tuple[sql.Composed, dict[str, Any]]:
    """One page's SELECT; filters on the topic (``module:Aggregate.Event``) run in SQL."""
    where = [sql.SQL("notification_id > %(after)s AND notification_id <= %(to)s")]
    params: dict[str, Any] = {"to": LAST_POSITION if to_position is None else to_position}
    if event_types:
        where.append(sql.SQL("split_part(topic, ':', 2) = ANY(%(types)s)"))
        params["types"] = list(event_types)
    if aggregate_type:
        where.append(sql.SQL("split_part(split_part(topic, ':', 2), '.', 1) = %(aggregate)s"))
        params["aggregate"] = aggregate_type
    query = sql.SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
        "WHERE {} ORDER BY notification_id LIMIT %(limit)s"
    ).format(sql.Identifier(EVENTS_TABLE), sql.SQL(" AND ").join(where))
    return query, params


def _within(moment: datetime | None, since: datetime | None, until: datetime | None) -> bool:
    if since is None and until is None:
        return True
    if moment is None:
        return False
    return (since is None or moment >= since) and (until is None or moment < until)


def history_mapper() -> Mapper[UUID]:
    """The application's mapper (transcoder and upcasters), without opening a database pool."""
    return Chronicle(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper


def decode(
    mapper: Mapper[UUID],
    position: int,
    originator_id: UUID,
    version: int,
    topic: str,
    state: bytes,
    classes: EventClasses | None = None,
) -> HistoryEvent:
    """One stored row as a HistoryEvent; its raw stored data when its class is gone.

    Given ``classes``, the stored JSON is read directly when that gives the mapper's answer
    (``eventstore.storedstate``), which is most events and many times faster.
    """
    if classes is not None:
        plain = plain_event(classes, topic, state)
        if plain is not None:
            return HistoryEvent(
                position=position, aggregate_id=originator_id, version=version, topic=topic, **plain
            )
    stored = StoredEvent(originator_id, version, topic, bytes(state))
    described = describe_event(decode_event(mapper, stored, lenient=True))
    del described["resolved"]
    return HistoryEvent(position=position, **{**described, "topic": topic})


class FoldNotFound(ValueError):
    """``module:function`` names nothing callable that can be imported."""


def load_fold(spec: str) -> Callable[[Iterable[HistoryEvent]], Any]:
    """The function named by ``module:function``; the working directory is importable."""
    module_name, _, function_name = spec.partition(":")
    if not module_name or not function_name:
        raise FoldNotFound(f"{spec!r} is not module:function (for instance credits:per_day)")
    if os.getcwd() not in sys.path:  # like `python -m`: the analyst's own modules are here
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise FoldNotFound(f"cannot import module {module_name!r}: {exc}") from None
    fold = getattr(module, function_name, None)
    if not callable(fold):
        raise FoldNotFound(f"module {module_name!r} has no function {function_name!r}")
    return fold
