"""Durable idempotency: a command's first outcome, stored with its events, answers every repeat."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.errors import ChronicleError, IdempotencyKeyReused, all_error_types

SELECT_OUTCOMES = "SELECT key, fingerprint, outcome FROM command_idempotency WHERE key = ANY(%s)"


@dataclass(frozen=True)
class Idempotency:
    """A caller's key (scoped to the caller) and a fingerprint of the request it came with."""

    key: str
    fingerprint: str


def encode_outcome(outcome: Any) -> dict[str, Any]:
    """The JSON form of a result or a domain error (the position is added at commit)."""
    if isinstance(outcome, ChronicleError):
        return {"error": {"type": type(outcome).__name__, "message": outcome.message}}
    return {"result": outcome}


def decode_outcome(stored: dict[str, Any]) -> tuple[Any, int | None]:
    """The (result, position) of a stored outcome; a stored error is raised again."""
    if "error" in stored:
        error_types = {cls.__name__: cls for cls in all_error_types()}
        error = stored["error"]
        raise error_types.get(error["type"], ChronicleError)(error["message"])
    return stored["result"], stored.get("position")


def lookup(datastore: Any, keys: Iterable[str]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Stored ``key -> (fingerprint, outcome)`` for those of ``keys`` seen before."""
    keys = list(keys)
    if not keys:
        return {}
    with datastore.get_connection() as conn:
        rows = conn.execute(SELECT_OUTCOMES, (keys,)).fetchall()
    return {row["key"]: (row["fingerprint"], row["outcome"]) for row in rows}


def check_fingerprint(idempotency: Idempotency, fingerprint: str) -> None:
    """Refuse a key reused with a different request."""
    if fingerprint != idempotency.fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used with a different request; "
            "use a new key for a new request"
        )
