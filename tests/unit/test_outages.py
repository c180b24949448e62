"""Outage or poison: the SQLSTATE of an error decides whether a consumer pauses or stops."""

import psycopg
import pytest
from eventsourcing import persistence
from psycopg import errors

from domain.errors import Unavailable
from projections.engine.outages import is_outage


def wrapped(cause: BaseException) -> persistence.OperationalError:
    """The event store's error around ``cause``, as its recorder raises it."""
    try:
        raise persistence.OperationalError(str(cause)) from cause
    except persistence.OperationalError as exc:
        return exc


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg.InterfaceError("the connection is closed"),
        errors.ConnectionFailure(),
        errors.AdminShutdown(),
        errors.CrashShutdown(),
        errors.CannotConnectNow(),
        errors.TooManyConnections(),
        errors.DiskFull(),
        errors.SerializationFailure(),
        errors.DeadlockDetected(),
        errors.ReadOnlySqlTransaction(),
        Unavailable("search is down"),
        wrapped(errors.AdminShutdown()),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_connection_shutdown_resource_or_retryable_error_is_an_outage(error):
    assert is_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        errors.ProgramLimitExceeded("index row size 3016 exceeds btree version 4 maximum 2704"),
        errors.UntranslatableCharacter(),
        errors.UniqueViolation(),
        errors.QueryCanceled(),
        wrapped(errors.ProgramLimitExceeded()),
        ValueError("a bad event"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_an_error_about_the_event_itself_is_no_outage_whatever_its_class(error):
    assert not is_outage(error)
