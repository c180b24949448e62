"""A stored event's JSON read straight into the values the mapper would give, when it can be.

Exporting a million events through the mapper costs a domain object, a transcoder pass and a
``json_ready`` walk per event; most of that undoes itself (the transcoder turns ``uuid_hex``
into a UUID that ``json_ready`` turns back into text). ``plain_event`` parses the state once
(orjson) and converts only what the transcoder wrapped (``{"_type_": ..., "_data_": ...}``).
It answers None whenever it cannot promise the mapper's answer, and the caller then takes the
mapper's path (``eventstore.decoding``):
- the topic names no class (the raw-data view of an unresolved event);
- the stored ``class_version`` is not the class's (an upcaster must run);
- a wrapped value of a kind the transcoder was not built with here, JSON orjson refuses (NaN,
  lone surrogates) or reads differently (an integer past 64 bits becomes a float there: any
  run of 19 digits, even inside a text, is left to the mapper), or a state not an object.
A test holds it equal to the mapper's path for every event of the golden fixtures.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.utils import resolve_topic

from eventstore.decoding import ENVELOPE

WRAPPED = b'"_type_"'
OTHER_ENVELOPE = ENVELOPE - {"class_version", "timestamp", "metadata"}
# orjson reads an integer past 64 bits as a float: any run of 19 digits goes to the mapper.
# (Found as a run of zeros once every digit is a zero: many times faster than a regex.)
DIGITS_AS_ZEROS = bytes.maketrans(b"123456789", b"000000000")
LONG_NUMBER = b"0" * 19
# What json_ready makes of each value the JSON transcoder wraps (its three default kinds).
UNWRAP: dict[str, Callable[[Any], Any]] = {
    "uuid_hex": lambda data: str(UUID(data)),
    "decimal_str": lambda data: str(Decimal(data)),
    "datetime_iso": lambda data: datetime.fromisoformat(data).isoformat(),
}


class Unplain(Exception):
    """This state needs the mapper (a value this module does not unwrap)."""


class EventClasses:
    """Each stored topic's class facts, resolved once: aggregate type, event type, version."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[str, str, int] | None] = {}

    def get(self, topic: str) -> tuple[str, str, int] | None:
        """The facts of ``topic``'s class; None when it resolves to none."""
        try:
            return self._known[topic]
        except KeyError:
            pass
        try:
            cls = resolve_topic(topic)
        except Exception:  # gone, or its module fails to import: the mapper's path decides
            facts = None
        else:
            event_type = cls.__qualname__
            facts = (event_type.split(".")[0], event_type, getattr(cls, "class_version", 1))
        self._known[topic] = facts
        return facts


def plain_event(classes: EventClasses, topic: str, state: bytes) -> dict[str, Any] | None:
    """``describe_event``'s fields of the event stored as ``topic``/``state``, or None.

    Returns ``aggregate_type``, ``event_type``, ``recorded_at``, ``actor``, ``correlation_id``,
    ``causation_id`` and ``data`` (JSON-ready), as the mapper's path would.
    """
    facts = classes.get(topic)
    if facts is None or LONG_NUMBER in state.translate(DIGITS_AS_ZEROS):
        return None
    try:
        data = orjson.loads(state)  # what is left once the envelope is popped is the data
        if data.pop("class_version", 1) != facts[2]:
            return None
        stamp = data.pop("timestamp")
        if len(stamp) != 2 or stamp["_type_"] != "datetime_iso":
            return None
        recorded_at = datetime.fromisoformat(stamp["_data_"])
        metadata = data.pop("metadata", None) or {}
        for name in OTHER_ENVELOPE:
            data.pop(name, None)
        actor = metadata.get("actor", "")
        correlation_id = metadata.get("correlation_id", "")
        causation_id = metadata.get("causation_id", "")
        if not (type(actor) is str and type(correlation_id) is str and type(causation_id) is str):
            return None  # the mapper would have unwrapped them: rare enough to leave to it
        if state.count(WRAPPED) > 1:  # most events wrap only their timestamp: no walk then
            data = {k: _unwrap(v) for k, v in data.items()}
    except (Unplain, LookupError, AttributeError, ValueError, TypeError):
        return None  # not the transcoder's JSON object as this module knows it: the mapper's
    return {
        "aggregate_type": facts[0],
        "event_type": facts[1],
        "recorded_at": recorded_at,
        "actor": actor,
        "correlation_id": correlation_id,
        "causation_id": causation_id,
        "data": data,
    }


def _unwrap(value: Any) -> Any:
    """``value`` as the transcoder and then ``json_ready`` would leave it."""
    if isinstance(value, dict):
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            unwrap = UNWRAP.get(value["_type_"])
            if unwrap is None:
                raise Unplain(value["_type_"])
            return unwrap(value["_data_"])
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value
