"""The command executor on the library's in-memory store (no sockets)."""

import threading
from uuid import uuid4

import pytest
from eventsourcing.application import Application

from domain.base import recording_metadata
from domain.commands import usercredits as credits
from domain.errors import AlreadyExists, InsufficientCredits, NotFound, VersionConflict
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


@pytest.fixture
def other_process(app):
    """A second executor on the same store: its cache knows nothing of the first's writes."""
    running = CommandExecutor(app)
    yield running
    running.close()


def balance(outcome):
    return outcome.result.available


def test_a_command_returns_its_result_and_position(executor):
    outcome = executor.execute(credits.OpenAccount(uuid4(), "free", 10))
    assert balance(outcome) == 10 and outcome.position == 1


def test_an_outcome_is_a_frozen_value_and_its_record_json_types(executor):
    user_id = uuid4()
    outcome = executor.execute(credits.OpenAccount(user_id, "free", 10))
    assert outcome.result == credits.CreditsState(user_id, "free", 10, 0, 0, 0, 1)
    assert outcome.record == {
        "user_id": str(user_id),
        "plan": "free",
        "available": 10,
        "reserved": 0,
        "active_jobs": 0,
        "rule_slots_used": 0,
        "version": 1,
    }


def test_a_command_returning_an_aggregate_is_refused_not_stored(executor, app):
    user_id = uuid4()

    def leaks(aggregates):
        account = credits.OpenAccount(user_id, "free", 10)
        account(aggregates)
        return aggregates.get(UserCredits, user_id)

    outcome = executor.execute(leaks)
    with pytest.raises(TypeError, match="cannot hold a UserCredits"):
        _ = outcome.record


def test_a_domain_error_reaches_the_caller_and_records_nothing(executor, app):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    with pytest.raises(InsufficientCredits):
        executor.execute(credits.ReserveCredits(user_id, "job", 11))
    assert app.repository.get(user_id).version == 1


def test_a_command_on_a_missing_aggregate_is_not_found(executor):
    with pytest.raises(NotFound):
        executor.execute(credits.GrantCredits(uuid4(), 1, "x"))


def test_events_carry_the_metadata_given_with_the_command(executor, app):
    user_id = uuid4()
    metadata = {"actor": "user:u", "correlation_id": "c1", "causation_id": "request:c1"}
    executor.execute(credits.OpenAccount(user_id, "free", 10), metadata=metadata)
    assert app.repository.get(user_id).version == 1
    (event,) = app.events.get(user_id)
    assert event.metadata == metadata


def test_concurrent_commands_on_one_aggregate_are_serialised(executor, app):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "pro", 1000))

    def spend(n: int) -> None:
        for k in range(50):
            executor.execute(credits.ReserveCredits(user_id, f"{n}-{k}", 1))
            executor.execute(credits.CommitCredits(user_id, f"{n}-{k}", 1))

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert app.repository.get(user_id).available == 1000 - 8 * 50


def test_a_command_failing_after_it_triggered_leaves_no_trace(executor, app):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))

    def half_done(aggregates):
        aggregates.get(UserCredits, user_id).grant(5, "first half")
        raise InsufficientCredits("second half failed")

    with pytest.raises(InsufficientCredits):
        executor.execute(half_done)
    outcome = executor.execute(credits.GrantCredits(user_id, 1, "next"))
    assert balance(outcome) == 11
    assert app.repository.get(user_id).available == 11


def test_an_unexpected_error_in_a_command_reaches_its_caller_only(executor):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))

    def broken(aggregates):
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        executor.execute(broken)
    assert balance(executor.execute(credits.GrantCredits(user_id, 1, "x"))) == 11


def test_recording_metadata_is_restored_after_the_block():
    with recording_metadata({"actor": "a", "correlation_id": "", "causation_id": ""}):
        pass
    credits_ = UserCredits.open(uuid4(), "free", 1)
    assert credits_.pending_events[0].metadata["actor"] == "system"


def test_creating_a_cached_id_fails_at_once_and_does_not_sink_its_batch(executor, app):
    existing, other = uuid4(), uuid4()
    executor.execute(credits.OpenAccount(existing, "free", 10))
    executor.execute(credits.OpenAccount(other, "free", 10))
    clash, grant = in_one_batch(
        executor, credits.OpenAccount(existing, "free", 99), credits.GrantCredits(other, 5, "x")
    )
    assert isinstance(clash, AlreadyExists)
    assert f"UserCredits {existing} already exists" in clash.message
    assert balance(grant) == 15
    assert app.repository.get(existing).available == 10
    assert executor.conflicts == 0  # known in memory: no commit was tried


def test_creating_an_id_another_process_stored_fails_at_once(executor, other_process, app):
    existing, other = uuid4(), uuid4()
    other_process.execute(credits.OpenAccount(existing, "free", 10))
    executor.execute(credits.OpenAccount(other, "free", 10))
    clash, grant = in_one_batch(
        executor, credits.OpenAccount(existing, "free", 99), credits.GrantCredits(other, 5, "x")
    )
    assert isinstance(clash, AlreadyExists)
    assert f"UserCredits {existing} already exists" in clash.message
    assert balance(grant) == 15
    assert executor.conflicts == 1  # one refused commit, no retries of the creation
    assert app.repository.get(existing).available == 10


def test_two_commands_creating_one_id_in_a_batch_create_it_once(executor, app):
    new, other = uuid4(), uuid4()
    executor.execute(credits.OpenAccount(other, "free", 10))
    first, second, grant = in_one_batch(
        executor,
        credits.OpenAccount(new, "free", 1),
        credits.OpenAccount(new, "free", 2),
        credits.GrantCredits(other, 5, "x"),
    )
    assert balance(first) == 1
    assert isinstance(second, AlreadyExists)
    assert balance(grant) == 15
    assert app.repository.get(new).available == 1


def grant_at(user_id, version, amount=1):
    """A grant decided on ``version`` of the user's credits."""

    def run(aggregates):
        account = aggregates.get(UserCredits, user_id, expected_version=version)
        account.grant(amount, "if-match")
        return account

    return run


def test_a_command_at_the_expected_version_runs(executor):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    assert balance(executor.execute(grant_at(user_id, 1))) == 11


def test_a_stale_expected_version_fails_with_the_current_version(executor, app):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    executor.execute(credits.GrantCredits(user_id, 1, "moves it to version 2"))
    with pytest.raises(VersionConflict) as raised:
        executor.execute(grant_at(user_id, 1))
    assert raised.value.details == {"current_version": 2}
    assert app.repository.get(user_id).version == 2


def test_an_expected_version_ahead_of_the_cache_is_checked_against_the_store(
    executor, other_process, app
):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))  # cached at version 1
    other_process.execute(credits.GrantCredits(user_id, 1, "version 2, elsewhere"))
    assert balance(executor.execute(grant_at(user_id, 2))) == 12
    assert executor.conflicts == 0 and app.repository.get(user_id).version == 3


def test_an_expected_version_only_the_stale_cache_has_fails_after_one_reload(
    executor, other_process
):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))  # cached at version 1
    other_process.execute(credits.GrantCredits(user_id, 1, "version 2, elsewhere"))
    with pytest.raises(VersionConflict) as raised:
        executor.execute(grant_at(user_id, 1))
    assert raised.value.details == {"current_version": 2}
    assert executor.conflicts == 1  # the stale commit, then a decision on fresh state


def test_a_version_conflict_is_not_retried_when_the_batch_conflicts(executor, other_process):
    user_id, other = uuid4(), uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    executor.execute(credits.OpenAccount(other, "free", 10))
    other_process.execute(credits.GrantCredits(other, 1, "makes the batch's commit conflict"))
    stale, grant = in_one_batch(executor, grant_at(user_id, 5), credits.GrantCredits(other, 1, "x"))
    assert isinstance(stale, VersionConflict) and stale.details == {"current_version": 1}
    assert balance(grant) == 12
