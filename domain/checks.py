"""Argument checks shared by the commands of aggregates; each raises InvalidCommand naming it."""

from domain.errors import InvalidCommand

MAX_TEXT = 500


def require_count(name: str, value: object, *, minimum: int) -> None:
    """``value`` is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidCommand(f"{name} must be an integer of at least {minimum}, got {value!r}")


def require_text(name: str, value: object, *, longest: int = MAX_TEXT) -> None:
    """``value`` is a string with something besides spaces, at most ``longest`` long."""
    if not isinstance(value, str) or not value.strip() or len(value) > longest:
        raise InvalidCommand(f"{name} must be a non-empty string of at most {longest} characters")
