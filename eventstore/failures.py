"""What the caller of a command hears when the event store fails or refuses it.

Never the driver's words: the exception is logged here, and the caller gets a plain
message and a code (``store_unavailable``, ``invalid_command``) it can act on.
"""

from __future__ import annotations

import logging

from eventsourcing.persistence import DataError, InterfaceError, OperationalError

from domain.errors import EventStoreUnavailable, InvalidCommand

log = logging.getLogger(__name__)
UNREACHABLE = (OperationalError, InterfaceError)
TRY_AGAIN = "the event store could not be reached; try again shortly"
OUTCOME_UNKNOWN = (
    "the event store could not be reached; the outcome is unknown: "
    "repeat the command with the same Idempotency-Key to learn it"
)


def unreachable_as_unavailable(exc: Exception) -> Exception:
    """A command that could not load its aggregates hears that the store is unavailable."""
    if isinstance(exc, UNREACHABLE):
        log.warning("the event store could not be reached", exc_info=exc)
        return EventStoreUnavailable(TRY_AGAIN)
    return exc


def refusal(exc: Exception, *, outcome_known: bool) -> Exception:
    """What a command the store did not take hears (``outcome_known``: nothing was committed)."""
    if isinstance(exc, UNREACHABLE):
        log.warning("the event store could not be reached", exc_info=exc)
        return EventStoreUnavailable(TRY_AGAIN if outcome_known else OUTCOME_UNKNOWN)
    if isinstance(exc, DataError):
        log.warning("the event store refused a value of a command", exc_info=exc)
        return InvalidCommand(
            "the command carries a value the event store cannot hold "
            "(such as text containing U+0000)"
        )
    log.error("the event store refused a command", exc_info=exc)
    return exc
