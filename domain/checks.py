"""Argument checks and bounds shared by the commands of aggregates (and the API's schemas).

Each bound is stated here or beside its aggregate, once; the request schemas import it.
"""

import re
from datetime import datetime

from domain.errors import InvalidCommand

MAX_TEXT = 500  # a reason, a label: one line of text
MAX_PRESET_ID = 100  # a preset's id, as a job or a rule names it
# A MIME type as storage keeps it: ``type/subtype`` and printable parameters, no line break.
CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+( *;[ -~]*)?")


def require_count(name: str, value: object, *, minimum: int, maximum: int | None = None) -> None:
    """``value`` is an integer (not a bool) of at least ``minimum`` and at most ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidCommand(f"{name} must be an integer of at least {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise InvalidCommand(f"{name} must be at most {maximum:,}, got {value:,}")


def require_text(name: str, value: object, *, longest: int = MAX_TEXT) -> None:
    """``value`` is a string with something besides spaces, at most ``longest`` long."""
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        raise InvalidCommand(f"{name} must be a non-empty string of at most {longest} characters")


def require_aware(name: str, moment: datetime) -> None:
    """Refuse a time without a timezone (InvalidCommand naming ``name``)."""
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise InvalidCommand(f"{name} must be a timezone-aware datetime")
