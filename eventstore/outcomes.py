"""A command's outcome as a record: the JSON-ready form it is stored in and answered from.

A command returns a small frozen value (``domain.commands``); its record is that value's fields
as JSON types: a UUID and a datetime as text (ISO 8601), an enum as its value, nested values
alike. The record is what an idempotent repeat gets back, so its names are the domain's, never
the API's: renaming an answer's field is a change of the route's presenter, not of stored data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID


def record_of(value: Any) -> Any:
    """``value`` in JSON types (a record passes through unchanged)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return record_of(value.value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: record_of(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): record_of(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [record_of(v) for v in value]
    raise TypeError(f"a command's outcome cannot hold a {type(value).__name__}: return values")
