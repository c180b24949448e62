"""``audit_log``: one row per event, what the admin audit viewer and its JSON API read.

An event whose topic names no class any more (an event class deleted without a pin) must never
stop a projection: ``eventstore.decoding.decode_event`` gives it as an ``UnresolvedEvent``, its
topic and its raw fields, which the audit log keeps and every other projection ignores.
Nor does text PostgreSQL cannot hold (U+0000, a lone surrogate, refused at the edge but perhaps
stored before that): the audit log shows it as U+FFFD rather than stop at the event.
Nor does text too long for a b-tree index (a 3,000-character actor, from a token minted before
subjects were bounded): each indexed column keeps its first ``MAX_INDEXED`` characters, the last
one replaced by ``…`` to say it was cut (the ``data`` column keeps everything).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from psycopg import Cursor
from psycopg.types.json import Jsonb

from eventstore.decoding import describe_event

EPOCH = datetime.fromtimestamp(0, UTC)
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # U+0000 and lone surrogates
# A b-tree row holds at most ~2.7 KB; 512 characters are 2 KB even at 4 bytes each.
MAX_INDEXED = 512
INDEXED = ("aggregate_type", "event_type", "actor", "correlation_id")  # text in an index
INSERT = """
    INSERT INTO audit_log (position, recorded_at, aggregate_type, aggregate_id, version,
        event_type, topic, resolved, actor, correlation_id, causation_id, data)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""


class AuditLogProjection:
    """Keeps ``audit_log`` equal to the event log, one row per event."""

    name = "audit_log"
    tables = ("audit_log",)  # what a rebuild recreates

    def project(self, cur: Cursor[Any], position: int, event: Any) -> None:
        row = storable(describe_event(event))
        for column in INDEXED:
            row[column] = indexable(row[column])
        # Only an unresolved event could lack a timestamp: it sorts as the epoch.
        row["recorded_at"] = row["recorded_at"] or EPOCH
        cur.execute(
            INSERT,
            (
                position,
                row["recorded_at"],
                row["aggregate_type"],
                row["aggregate_id"],
                row["version"],
                row["event_type"],
                row["topic"],
                row["resolved"],
                row["actor"],
                row["correlation_id"],
                row["causation_id"],
                Jsonb(row["data"]),
            ),
        )


def indexable(value: Any) -> Any:
    """``value`` cut to ``MAX_INDEXED`` characters, ending in ``…`` if it was cut."""
    if isinstance(value, str) and len(value) > MAX_INDEXED:
        return value[: MAX_INDEXED - 1] + "…"
    return value


def storable(value: Any) -> Any:
    """``value`` with every text PostgreSQL cannot store made storable (U+FFFD in its place)."""
    if isinstance(value, str):
        return UNSTORABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value
