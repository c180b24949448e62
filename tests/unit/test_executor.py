"""The command executor on the library's in-memory store (no sockets)."""

import threading
from uuid import uuid4

import pytest
from eventsourcing.application import Application

from domain.base import recording_metadata
from domain.commands import usercredits as credits
from domain.errors import Conflict, InsufficientCredits, NotFound
from domain.usercredits import UserCredits
from eventstore.executor import CommandExecutor
from tests.conftest import in_one_batch


@pytest.fixture
def app():
    return Application()


@pytest.fixture
def executor(app):
    running = CommandExecutor(app)
    yield running
    running.close()


def test_a_command_returns_its_result_and_position(executor):
    outcome = executor.execute(credits.open_account(uuid4(), "free", 10))
    assert outcome.result["credits"] == 10 and outcome.position == 1


def test_a_domain_error_reaches_the_caller_and_records_nothing(executor, app):
    user_id = uuid4()
    executor.execute(credits.open_account(user_id, "free", 10))
    with pytest.raises(InsufficientCredits):
        executor.execute(credits.reserve_credits(user_id, "job", 11))
    assert app.repository.get(user_id).version == 1


def test_a_command_on_a_missing_aggregate_is_not_found(executor):
    with pytest.raises(NotFound):
        executor.execute(credits.grant_credits(uuid4(), 1, "x"))


def test_events_carry_the_metadata_given_with_the_command(executor, app):
    user_id = uuid4()
    metadata = {"actor": "user:u", "correlation_id": "c1", "causation_id": "request:c1"}
    executor.execute(credits.open_account(user_id, "free", 10), metadata=metadata)
    assert app.repository.get(user_id).version == 1
    (event,) = app.events.get(user_id)
    assert event.metadata == metadata


def test_concurrent_commands_on_one_aggregate_are_serialised(executor, app):
    user_id = uuid4()
    executor.execute(credits.open_account(user_id, "pro", 1000))

    def spend(n: int) -> None:
        for k in range(50):
            executor.execute(credits.reserve_credits(user_id, f"{n}-{k}", 1))
            executor.execute(credits.commit_credits(user_id, f"{n}-{k}", 1))

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert app.repository.get(user_id).available == 1000 - 8 * 50


def test_a_command_failing_after_it_triggered_leaves_no_trace(executor, app):
    user_id = uuid4()
    executor.execute(credits.open_account(user_id, "free", 10))

    def half_done(aggregates):
        aggregates.get(UserCredits, user_id).grant(5, "first half")
        raise InsufficientCredits("second half failed")

    with pytest.raises(InsufficientCredits):
        executor.execute(half_done)
    outcome = executor.execute(credits.grant_credits(user_id, 1, "next"))
    assert outcome.result["credits"] == 11
    assert app.repository.get(user_id).available == 11


def test_an_unexpected_error_in_a_command_reaches_its_caller_only(executor):
    user_id = uuid4()
    executor.execute(credits.open_account(user_id, "free", 10))

    def broken(aggregates):
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        executor.execute(broken)
    assert executor.execute(credits.grant_credits(user_id, 1, "x")).result["credits"] == 11


def test_recording_metadata_is_restored_after_the_block():
    with recording_metadata({"actor": "a", "correlation_id": "", "causation_id": ""}):
        pass
    credits_ = UserCredits.open(uuid4(), "free", 1)
    assert credits_.pending_events[0].metadata["actor"] == "system"


def test_a_command_that_cannot_commit_does_not_sink_its_batch(executor, app):
    existing, other = uuid4(), uuid4()
    executor.execute(credits.open_account(existing, "free", 10))
    executor.execute(credits.open_account(other, "free", 10))
    clash, grant = in_one_batch(
        executor, credits.open_account(existing, "free", 99), credits.grant_credits(other, 5, "x")
    )
    assert isinstance(clash, Exception)
    assert grant.result["credits"] == 15
    assert app.repository.get(existing).available == 10


def test_two_commands_creating_one_id_in_a_batch_create_it_once(executor, app):
    new, other = uuid4(), uuid4()
    executor.execute(credits.open_account(other, "free", 10))
    first, second, grant = in_one_batch(
        executor,
        credits.open_account(new, "free", 1),
        credits.open_account(new, "free", 2),
        credits.grant_credits(other, 5, "x"),
    )
    assert first.result["credits"] == 1
    assert isinstance(second, Conflict)
    assert grant.result["credits"] == 15
    assert app.repository.get(new).available == 1
