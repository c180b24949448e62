"""The base of every request body: strict JSON types, and only text PostgreSQL can store.

Strict: ``true`` or ``"1"`` is not an integer. FastAPI validates the parsed JSON in Python
mode, where strict pydantic would also refuse a UUID, a date or an enum given as a string —
the only way JSON can carry them — so those few types stay lax.

Storable: PostgreSQL text cannot hold U+0000, nor UTF-8 a lone surrogate (``"\\ud800"``);
such text in any string, dict key or nested value is refused with its path, before anything
is recorded (a projection that meets one could never store it).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, ValidationError, model_validator
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError

# Core schema types that JSON carries as strings: strict Python-mode validation would refuse them.
_FROM_STRINGS = {"uuid", "date", "datetime", "time", "timedelta", "enum", "decimal", "tuple"}


def unstorable(value: Any, path: tuple[str | int, ...]) -> list[InitErrorDetails]:
    """An error for every string (or dict key) under ``value`` that PostgreSQL cannot store."""
    found: list[InitErrorDetails] = []
    if isinstance(value, str):
        if not is_storable(value):
            found.append(_error(path))
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and not is_storable(key):
                found.append(_error((*path, printable(key))))
            found += unstorable(item, (*path, printable(str(key))))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found += unstorable(item, (*path, index))
    return found


def is_storable(text: str) -> bool:
    """Whether PostgreSQL can store ``text``: no U+0000, valid UTF-8 (no lone surrogates)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def printable(text: str) -> str:
    """``text`` with anything unprintable escaped, safe to name in a message."""
    if text.isprintable():
        return text
    return text.encode("unicode_escape", "backslashreplace").decode("ascii")


def _error(path: tuple[str | int, ...]) -> InitErrorDetails:
    problem = PydanticCustomError(
        "unstorable_text", "text must not contain U+0000 or unpaired surrogates"
    )
    return InitErrorDetails(type=problem, loc=path, input=None)


def _relax(schema: Any) -> None:
    """Let JSON strings through where strict mode would want a Python object."""
    if isinstance(schema, dict):
        kind = schema.get("type")  # a model's field called "type" is a dict, not a kind
        if isinstance(kind, str) and kind in _FROM_STRINGS and "strict" not in schema:
            schema["strict"] = False
        for item in schema.values():
            _relax(item)
    elif isinstance(schema, list):
        for item in schema:
            _relax(item)


class RequestBody(BaseModel):
    """A request body: strict JSON types, and text without U+0000 or lone surrogates."""

    model_config = ConfigDict(strict=True)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = handler(source)
        _relax(schema)
        return schema

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        problems = list(unstorable(data, ()))
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return data
