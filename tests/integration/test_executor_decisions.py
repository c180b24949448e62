"""Decisions are never retried on real PostgreSQL: a taken id, a stale expected version."""

from uuid import uuid4

import pytest

from domain.commands import usercredits as credits
from domain.errors import AlreadyExists, VersionConflict
from domain.usercredits import UserCredits
from eventstore.executor import CommandExecutor


class Conflicts:
    """A fake observer that counts refused commits and attempts answered."""

    def __init__(self):
        self.conflicted = 0
        self.outcomes = []

    def command_completed(self, command_type, seconds, outcome):
        self.outcomes.append(outcome)

    def batch_committed(self, size):
        pass

    def batch_conflicted(self, command_types):
        self.conflicted += 1


@pytest.fixture
def elsewhere(app):
    """Another process's executor: its cache knows nothing of this one's writes."""
    running = CommandExecutor(app)
    yield running
    running.close()


@pytest.fixture
def observer():
    return Conflicts()


@pytest.fixture
def here(app, observer):
    running = CommandExecutor(app, observer=observer)
    yield running
    running.close()


def grant_at(user_id, version):
    def run(aggregates):
        account = aggregates.get(UserCredits, user_id, expected_version=version)
        account.grant(1, "if-match")
        return account

    return run


def test_creating_an_id_stored_by_another_process_fails_at_once(here, elsewhere, observer, app):
    user_id = uuid4()
    elsewhere.execute(credits.OpenAccount(user_id, "free", 10))
    with pytest.raises(AlreadyExists, match=f"UserCredits {user_id} already exists"):
        here.execute(credits.OpenAccount(user_id, "pro", 99))
    assert observer.conflicted == 1 and here.conflicts == 1  # one commit tried, no retries
    assert observer.outcomes == ["already_exists"]
    assert app.repository.get(user_id).available == 10


def test_an_expected_version_the_store_moved_past_fails_with_the_current_version(
    here, elsewhere, observer, app
):
    user_id = uuid4()
    here.execute(credits.OpenAccount(user_id, "free", 10))  # cached here at version 1
    elsewhere.execute(credits.GrantCredits(user_id, 1, "version 2"))
    elsewhere.execute(credits.GrantCredits(user_id, 1, "version 3"))
    with pytest.raises(VersionConflict) as raised:
        here.execute(grant_at(user_id, 1))
    assert raised.value.details == {"current_version": 3}
    assert observer.conflicted == 1  # the stale commit once, then a decision on fresh state
    assert app.repository.get(user_id).version == 3


def test_an_expected_version_newer_than_the_cache_is_read_from_the_store(
    here, elsewhere, observer, app
):
    user_id = uuid4()
    here.execute(credits.OpenAccount(user_id, "free", 10))
    elsewhere.execute(credits.GrantCredits(user_id, 1, "version 2"))
    outcome = here.execute(grant_at(user_id, 2))
    assert outcome.result.available == 12 and observer.conflicted == 0
    assert app.repository.get(user_id).version == 3
