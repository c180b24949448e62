"""The executor's metrics hook: what it reports, and that a failing observer changes nothing."""

from uuid import uuid4

import pytest
from eventsourcing.application import Application

from domain.commands import usercredits as credits
from domain.errors import InsufficientCredits
from eventstore.executor import CommandExecutor
from tests.conftest import in_one_batch


class Recording:
    """A fake observer that keeps what it was told."""

    def __init__(self):
        self.commands = []
        self.committed = []
        self.conflicted = []

    def command_completed(self, command_type, seconds, outcome):
        self.commands.append((command_type, seconds, outcome))

    def batch_committed(self, size):
        self.committed.append(size)

    def batch_conflicted(self, command_types):
        self.conflicted.append(command_types)


@pytest.fixture
def app():
    return Application()


@pytest.fixture
def observer():
    return Recording()


@pytest.fixture
def executor(app, observer):
    running = CommandExecutor(app, observer=observer)
    yield running
    running.close()


def test_each_command_reports_its_use_case_latency_and_outcome(executor, observer):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    with pytest.raises(InsufficientCredits):
        executor.execute(credits.ReserveCredits(user_id, "job", 11))
    assert [(name, outcome) for name, _, outcome in observer.commands] == [
        ("OpenAccount", "ok"),
        ("ReserveCredits", "insufficient_credits"),
    ]
    assert all(seconds >= 0 for _, seconds, _ in observer.commands)


def test_a_plain_function_is_named_by_its_qualified_name(executor, observer):
    def look(aggregates):
        return None

    executor.execute(look)
    assert observer.commands[-1][0].endswith(
        "test_a_plain_function_is_named_by_its_qualified_name.<locals>.look"
    )


def test_an_unexpected_error_is_reported_as_internal(executor, observer):
    def broken(aggregates):
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        executor.execute(broken)
    assert observer.commands[-1][2] == "internal"


def test_a_commit_reports_its_batch_size(executor, observer):
    first, second = uuid4(), uuid4()
    in_one_batch(
        executor, credits.OpenAccount(first, "free", 1), credits.OpenAccount(second, "free", 1)
    )
    assert observer.committed[-1] == 2


def test_a_conflict_is_reported(executor, observer, app):
    user_id = uuid4()
    elsewhere = CommandExecutor(app)
    try:
        executor.execute(credits.OpenAccount(user_id, "free", 10))
        elsewhere.execute(credits.GrantCredits(user_id, 1, "elsewhere"))
    finally:
        elsewhere.close()
    executor.execute(credits.GrantCredits(user_id, 1, "here"))
    assert observer.conflicted == [["GrantCredits"]]
    assert executor.conflicts == 1


def test_a_failing_observer_changes_no_outcome(app):
    class Broken(Recording):
        def command_completed(self, command_type, seconds, outcome):
            raise RuntimeError("metrics backend down")

        def batch_committed(self, size):
            raise RuntimeError("metrics backend down")

    running = CommandExecutor(app, observer=Broken())
    try:
        user_id = uuid4()
        running.execute(credits.OpenAccount(user_id, "free", 10))
        outcome = running.execute(credits.GrantCredits(user_id, 5, "x"))
    finally:
        running.close()
    assert outcome.result.available == 15 and app.repository.get(user_id).available == 15
