"""Writers of the event history: JSON Lines and Parquet, one row per event, in flat memory.

Every row holds ``ROW_FIELDS``. In JSON Lines ``data`` is an object; in Parquet it is a JSON
text column, and when the export holds one event type (exactly one ``event_types`` filter) it
also has a typed ``data_<field>`` column for each scalar field of that event class (int, float,
bool, text, id, time) — the class's current shape, which upcasters give old events too.

Parquet needs pyarrow, an optional extra (``pip install chronicle[analytics]``): it is imported
only here, only when asked for, and its absence is a clear ``MissingPyArrow``. Rows are buffered
into row groups of ``row_group_size`` while the events are read page by page, straight into
columns (no row dicts). JSON is written by orjson (several times faster than ``json`` on a
million events); a value it refuses (an integer past 64 bits) falls back to ``json`` for that
event alone.
"""

from __future__ import annotations

import json
import os
import types
import typing
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import orjson

from eventstore.history import HistoryEvent
from eventstore.topics import TOPICS

ROW_FIELDS = (
    "position",
    "recorded_at",
    "aggregate_type",
    "aggregate_id",
    "version",
    "event_type",
    "actor",
    "correlation_id",
    "causation_id",
    "topic",
    "data",
)
ROW_GROUP_SIZE = 50_000


class MissingPyArrow(RuntimeError):
    """Parquet was asked for but pyarrow is not installed."""


def export_row(event: HistoryEvent) -> dict[str, Any]:
    """One event as a row (``data`` stays an object; the time and id as orjson writes them).

    orjson writes a UTC time as ``isoformat`` does and an id as ``str`` does, in C; a time
    with any other offset is made text here (orjson would drop an offset's seconds).
    """
    moment = event.recorded_at
    return {
        "position": event.position,
        "recorded_at": moment if moment is None or moment.tzinfo is UTC else moment.isoformat(),
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "version": event.version,
        "event_type": event.event_type,
        "actor": event.actor,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "topic": event.topic,
        "data": event.data,
    }


def write_jsonl(events: Iterable[HistoryEvent], out: IO[bytes]) -> int:
    """Write one JSON object per line (UTF-8) to ``out``; the number of events written."""
    count = 0
    for event in events:
        out.write(_json(export_row(event)) + b"\n")
        count += 1
    return count


def _json(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:  # an integer past 64 bits: json writes any integer
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_text)
        return text.encode()


def _text(value: Any) -> str:
    """What orjson would have written for a time or an id, for ``json``."""
    return value.isoformat() if isinstance(value, datetime) else str(value)


def require_pyarrow() -> Any:
    """The ``pyarrow`` module, or MissingPyArrow saying how to install it."""
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401  (the writer lives in this submodule)
    except ImportError:
        raise MissingPyArrow(
            "Parquet export needs pyarrow: pip install chronicle[analytics] "
            "(or export JSON Lines with --format jsonl)"
        ) from None
    return pyarrow


def write_parquet(
    events: Iterable[HistoryEvent],
    path: Path,
    *,
    event_type: str | None = None,
    row_group_size: int = ROW_GROUP_SIZE,
) -> int:
    """Write ``events`` to a Parquet file at ``path``; the number of events written.

    The file appears whole or not at all: it is written beside ``path`` and renamed.
    """
    pa = require_pyarrow()
    flat = flat_fields(event_type) if event_type else {}
    schema = pa.schema(
        [
            ("position", pa.int64()),
            ("recorded_at", pa.timestamp("us", tz="UTC")),
            *[(name, pa.string()) for name in ("aggregate_type", "aggregate_id")],
            ("version", pa.int64()),
            *[(name, pa.string()) for name in ROW_FIELDS[5:]],
            *[(f"data_{name}", _ARROW[kind](pa)) for name, kind in flat.items()],
        ]
    )
    partial = path.with_name(path.name + ".partial")
    count = 0
    try:
        with pa.parquet.ParquetWriter(partial, schema) as writer:
            columns: dict[str, list[Any]] = {name: [] for name in schema.names}
            for event in events:
                _append(columns, event, flat)
                count += 1
                if len(columns["position"]) >= row_group_size:
                    writer.write_table(pa.Table.from_pydict(columns, schema=schema))
                    columns = {name: [] for name in schema.names}
            if columns["position"] or not count:
                writer.write_table(pa.Table.from_pydict(columns, schema=schema))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return count


def _append(columns: dict[str, list[Any]], event: HistoryEvent, flat: dict[str, type]) -> None:
    """Add ``event`` to the columns of a row group (the values ``export_row`` has, typed)."""
    columns["position"].append(event.position)
    columns["recorded_at"].append(event.recorded_at)
    columns["aggregate_type"].append(event.aggregate_type)
    columns["aggregate_id"].append(str(event.aggregate_id))
    columns["version"].append(event.version)
    columns["event_type"].append(event.event_type)
    columns["actor"].append(event.actor)
    columns["correlation_id"].append(event.correlation_id)
    columns["causation_id"].append(event.causation_id)
    columns["topic"].append(event.topic)
    columns["data"].append(_json(event.data))  # pyarrow takes UTF-8 bytes for a string column
    for name, kind in flat.items():
        columns[f"data_{name}"].append(_COERCE[kind](event.data.get(name)))


_ARROW: dict[type, Callable[[Any], Any]] = {
    int: lambda pa: pa.int64(),
    float: lambda pa: pa.float64(),
    bool: lambda pa: pa.bool_(),
    str: lambda pa: pa.string(),
    UUID: lambda pa: pa.string(),
    datetime: lambda pa: pa.timestamp("us", tz="UTC"),
}
# A value that does not fit its column (raw data of an older shape) becomes null, not an error.
_COERCE: dict[type, Callable[[Any], Any]] = {
    int: lambda v: v if isinstance(v, int) and not isinstance(v, bool) else None,
    float: lambda v: float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None,
    bool: lambda v: v if isinstance(v, bool) else None,
    str: lambda v: v if isinstance(v, str) else None,
    UUID: lambda v: v if isinstance(v, str) else None,
    datetime: lambda v: _parse_time(v),
}


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def flat_fields(event_type: str) -> dict[str, type]:
    """The scalar fields of the event class named ``event_type`` and their kinds, in order."""
    classes = {topic.partition(":")[2]: cls for topic, cls in TOPICS.items()}
    cls = classes.get(event_type)
    if cls is None:
        return {}
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # an annotation that no longer resolves: the JSON column still has it
        return {}
    fields: dict[str, type] = {}
    for name, hint in hints.items():
        kind = _scalar(hint)
        if kind is not None and name not in ("originator_version", "originator_topic"):
            fields[name] = kind
    fields.pop("timestamp", None)  # already the recorded_at column
    return fields


def _scalar(hint: Any) -> type | None:
    """``int`` for ``int`` or ``int | None``; None for anything not scalar."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = kinds[0] if len(kinds) == 1 else None
    return hint if hint in _ARROW else None
