"""Stored events as people read them: decoded when their class exists, raw when it is gone.

One place for what the audit log, the analysts' history and the projection runners share:
- ``decode_event``: the domain event of a stored row (through the application's mapper, so
  upcasters apply), or an ``UnresolvedEvent`` holding its topic and raw fields when the topic
  names no class any more — which every projection ignores instead of stopping on it;
- ``describe_event``: where, when, who and what of an event, its own fields JSON-ready;
- ``json_ready`` / ``public_state``: the one conversion of values and states to JSON types
  (ids, times and decimals as text, sets and tuples as sorted lists, enums as their values,
  dataclasses and other objects as their public fields).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.utils import TopicError

# What every event carries besides its own fields.
ENVELOPE = frozenset(
    {"originator_id", "originator_version", "originator_topic", "timestamp", "metadata"}
    | {"class_version"}
)


@dataclasses.dataclass(frozen=True)
class UnresolvedEvent:
    """A stored event whose topic resolves to no class: its topic and raw decoded fields."""

    topic: str
    originator_id: UUID
    originator_version: int
    state: dict[str, Any]
    timestamp: datetime | None = None
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)


def decode_event(mapper: Any, stored: Any, *, lenient: bool = False) -> Any:
    """The domain event of ``stored`` (a notification or stored event), else an UnresolvedEvent.

    Only a topic that resolves to no class gives an UnresolvedEvent, unless ``lenient`` (reads
    for people, which must never fail): then a state that no longer loads gives one too.
    """
    try:
        return mapper.to_domain_event(stored)
    except TopicError:
        pass
    except Exception:
        if not lenient:
            raise
    state = _raw(mapper, stored.state)
    metadata = state.get("metadata")
    return UnresolvedEvent(
        topic=stored.topic,
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        state=state,
        timestamp=_moment(state.get("timestamp")),
        metadata=metadata if isinstance(metadata, dict) else {},
    )


def describe_event(event: Any) -> dict[str, Any]:
    """The audit fields of ``event`` (decoded or unresolved), its own data JSON-ready."""
    if isinstance(event, UnresolvedEvent):
        topic, resolved, fields = event.topic, False, event.state
    else:
        cls = type(event)
        topic, resolved, fields = f"{cls.__module__}:{cls.__qualname__}", True, vars(event)
    qualname = topic.rpartition(":")[2] or topic
    metadata = getattr(event, "metadata", None) or {}
    return {
        "aggregate_type": qualname.split(".")[0],
        "aggregate_id": event.originator_id,
        "version": event.originator_version,
        "event_type": qualname,
        "topic": topic,
        "resolved": resolved,
        "recorded_at": event.timestamp,  # None only for an unresolved event without one
        "actor": str(metadata.get("actor", "")),
        "correlation_id": str(metadata.get("correlation_id", "")),
        "causation_id": str(metadata.get("causation_id", "")),
        "data": {k: json_ready(v) for k, v in fields.items() if k not in ENVELOPE},
    }


def json_ready(value: Any) -> Any:
    """``value`` as plain JSON types (dict, list, str, int, float, bool, None)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return json_ready(value.value)
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_ready(v) for v in value]
    if isinstance(value, set | frozenset | tuple):
        # Sorted so that the same set always reads (and diffs) the same way.
        return sorted((json_ready(v) for v in value), key=_sort_key)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_ready(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "__dict__"):
        return public_state(value)
    return str(value)


def public_state(obj: Any) -> dict[str, Any]:
    """The public attributes of ``obj`` (those without a leading underscore), JSON-ready."""
    return {k: json_ready(v) for k, v in sorted(vars(obj).items()) if not k.startswith("_")}


def _sort_key(value: Any) -> tuple[int, Any]:
    """Numbers by value, then strings, then anything else by its JSON text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 0, value
    if isinstance(value, str):
        return 1, value
    return 2, json.dumps(value, sort_keys=True)


def stored_time(state: bytes | None) -> datetime | None:
    """When the event stored as ``state`` (the transcoder's JSON) happened; None if unreadable."""
    if state is None:
        return None
    try:
        decoded = json.loads(bytes(state))
    except ValueError:
        return None
    return _moment(decoded.get("timestamp")) if isinstance(decoded, dict) else None


def _raw(mapper: Any, state: bytes) -> dict[str, Any]:
    try:
        decoded = mapper.transcoder.decode(state)
    except Exception:  # a custom type the transcoder no longer knows: plain JSON then
        decoded = json.loads(state)
    return dict(decoded) if isinstance(decoded, dict) else {"state": decoded}


def _moment(value: Any) -> datetime | None:
    if isinstance(value, dict):  # the transcoder's {"_type_": "datetime_iso", "_data_": ...}
        value = value.get("_data_")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if isinstance(value, datetime) else None
