"""Durable idempotency: a command's first outcome, stored with its events, answers every repeat.

An outcome is stored as ``{"outcome": <record>, "position": ...}`` (the command's outcome in
JSON types, ``eventstore.outcomes``) or ``{"error": {"code", "message", "details"?},
"position": ...}``. Rows of earlier revisions still decode: ``{"result": ...}`` holds the API's
answer as it was given (the caller presents it as it is), and the first revision's errors named
the error's Python class (``"type"``) instead of its code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.errors import (
    ChronicleError,
    IdempotencyKeyReused,
    Unavailable,
    VersionConflict,
    all_error_types,
    error_for_code,
)
from eventstore.outcomes import record_of

SELECT_OUTCOMES = "SELECT key, fingerprint, outcome FROM command_idempotency WHERE key = ANY(%s)"


@dataclass(frozen=True)
class Idempotency:
    """A caller's key (scoped to the caller) and a fingerprint of the request it came with."""

    key: str
    fingerprint: str


@dataclass(frozen=True)
class StoredOutcome:
    """The fingerprint a key was first used with, and the outcome stored under it."""

    fingerprint: str
    outcome: dict[str, Any]


def is_recorded(outcome: Any) -> bool:
    """Whether every repeat of a command must get this outcome (transient errors are not)."""
    if isinstance(outcome, Exception):
        return isinstance(outcome, ChronicleError) and not isinstance(
            outcome, VersionConflict | Unavailable
        )
    return True


def encode_outcome(outcome: Any) -> dict[str, Any]:
    """The JSON form of a result or a domain error (the position is added at commit)."""
    if isinstance(outcome, ChronicleError):
        error: dict[str, Any] = {"code": outcome.code, "message": outcome.message}
        if outcome.details:
            error["details"] = outcome.details
        return {"error": error}
    return {"outcome": record_of(outcome)}


def decode_outcome(stored: dict[str, Any]) -> tuple[Any, int | None, bool]:
    """The (record, position, answered) of a stored outcome; a stored error is raised again.

    ``answered``: the record is an answer stored by an earlier revision, not an outcome.
    """
    if "error" in stored:
        error = stored["error"]
        if "code" in error:
            cls = error_for_code(error["code"])
        else:  # the first revision's shape: the class name
            cls = {c.__name__: c for c in all_error_types()}.get(error["type"], ChronicleError)
        raise cls(error["message"], **error.get("details", {}))
    if "outcome" in stored:
        return stored["outcome"], stored.get("position"), False
    return stored["result"], stored.get("position"), True


def lookup(datastore: Any, keys: Iterable[str]) -> dict[str, StoredOutcome]:
    """The stored outcomes of those of ``keys`` seen before."""
    keys = list(keys)
    if not keys:
        return {}
    with datastore.get_connection() as conn:
        rows = conn.execute(SELECT_OUTCOMES, (keys,)).fetchall()
    return {row["key"]: StoredOutcome(row["fingerprint"], row["outcome"]) for row in rows}


def replay(idempotency: Idempotency, stored: StoredOutcome) -> tuple[Any, int | None, bool]:
    """The first outcome of a repeated key (``decode_outcome``), or its error raised again."""
    check_fingerprint(idempotency, stored.fingerprint)
    return decode_outcome(stored.outcome)


def check_fingerprint(idempotency: Idempotency, fingerprint: str) -> None:
    """Refuse a key reused with a different request."""
    if fingerprint != idempotency.fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used with a different request; "
            "use a new key for a new request"
        )
