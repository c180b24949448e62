"""What a caller hears when the store fails: a plain message and a code, not the driver's."""

from uuid import uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import DataError, OperationalError

from domain.commands import usercredits as credits
from domain.errors import EventStoreUnavailable, InvalidCommand
from eventstore.executor import CommandExecutor
from eventstore.failures import refusal

DRIVER_WORDS = 'connection to server at "10.1.2.3", port 5432 failed: FATAL: password'


class FailingStore(Application):
    """The in-memory store, made to fail its next insert with ``failure``."""

    failure: Exception | None = None

    def __init__(self):
        super().__init__()
        insert = self.recorder.insert_events

        def insert_or_fail(*args, **kwargs):
            failure, self.failure = self.failure, None
            if failure is not None:
                raise failure
            return insert(*args, **kwargs)

        self.recorder.insert_events = insert_or_fail


@pytest.fixture
def store():
    return FailingStore()


@pytest.fixture
def executor(store):
    running = CommandExecutor(store)
    yield running
    running.close()


def test_an_unreachable_store_is_unavailable_with_a_plain_message(executor, store):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    store.failure = OperationalError(DRIVER_WORDS)
    with pytest.raises(EventStoreUnavailable) as raised:
        executor.execute(credits.GrantCredits(user_id, 1, "x"))
    assert "10.1.2.3" not in raised.value.message and "password" not in raised.value.message
    assert "Idempotency-Key" in raised.value.message  # the outcome is unknown: say how to learn it
    assert raised.value.details == {}


def test_the_executor_recovers_after_the_store_comes_back(executor, store):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    store.failure = OperationalError(DRIVER_WORDS)
    with pytest.raises(EventStoreUnavailable):
        executor.execute(credits.GrantCredits(user_id, 1, "lost"))
    assert executor.execute(credits.GrantCredits(user_id, 1, "kept")).result.available == 11


def test_a_value_the_store_cannot_hold_is_an_invalid_command():
    error = refusal(
        DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"), outcome_known=True
    )
    assert isinstance(error, InvalidCommand) and "0x00" not in error.message


def test_an_unreachable_store_before_anything_was_written_says_to_try_again():
    error = refusal(OperationalError(DRIVER_WORDS), outcome_known=True)
    assert isinstance(error, EventStoreUnavailable) and "10.1.2.3" not in error.message
    assert "try again" in error.message
