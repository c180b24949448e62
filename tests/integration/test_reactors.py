"""Reactors on real PostgreSQL: retries, dead letters that keep each aggregate's order, retries
asked by an admin, one active instance."""

from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool
from typer.testing import CliRunner

from api.cli import cli
from domain.errors import IllegalTransition, NotFound
from projections.engine.deadletters import request_retry
from projections.engine.reactors import ReactorRunner
from projections.engine.watcher import LogWatcher
from projections.registry import projection_status
from tests.conftest import TEST_SECRET, wait_until
from tests.integration.auditlog import insert_retired_event
from tests.integration.flaky import NAME, FlakyReactor, grant, letters, open_account
from tests.integration.test_projections import head

ATTEMPTS = 3


def start(dsn, app, reactor):
    watcher = LogWatcher(dsn).start()
    runner = ReactorRunner(
        dsn,
        app,
        [reactor],
        watcher,
        poll_seconds=0.1,
        max_attempts=ATTEMPTS,
        retry_seconds=0.01,
        retry_max_seconds=0.02,
    ).start()
    return runner, watcher


@pytest.fixture
def flaky(app, clean_dsn) -> Iterator[tuple[FlakyReactor, LogWatcher]]:
    reactor = FlakyReactor()
    runner, watcher = start(clean_dsn, app, reactor)
    yield reactor, watcher
    runner.stop()
    watcher.stop()


@pytest.fixture
def pool(clean_dsn) -> Iterator[ConnectionPool]:
    with ConnectionPool(
        clean_dsn, min_size=1, max_size=2, kwargs={"autocommit": True, "row_factory": dict_row}
    ) as reads:
        yield reads


def caught_up(dsn, watcher):
    assert watcher.wait_for_position([NAME], head(dsn), timeout=30)


def parked_history(app, dsn, flaky):
    """A good account, a broken one with a grant behind its opening, another good account."""
    reactor, watcher = flaky
    good = open_account(app)
    bad = open_account(app, broken=reactor.broken)
    grant(app, bad)
    other = open_account(app)
    grant(app, good)
    caught_up(dsn, watcher)
    return good, bad, other


def test_a_failing_event_is_parked_after_its_attempts(app, clean_dsn, flaky):
    reactor, _ = flaky
    _, bad, _ = parked_history(app, clean_dsn, flaky)

    parked = letters(clean_dsn)[0]

    assert (parked["aggregate_id"], parked["aggregate_version"]) == (bad.id, 1)
    assert parked["state"] == "parked" and parked["attempts"] == ATTEMPTS
    assert "RuntimeError: cannot deliver version 1" in parked["error"]
    assert parked["topic"] == "domain.usercredits:UserCredits.Created"
    assert parked["first_failed_at"] <= parked["last_failed_at"]
    assert reactor.attempts[(bad.id, 1)] == ATTEMPTS


def test_events_of_other_aggregates_flow_past_a_parked_one(app, clean_dsn, flaky):
    reactor, _ = flaky
    good, _, other = parked_history(app, clean_dsn, flaky)

    assert reactor.delivered == {(good.id, 1): 1, (good.id, 2): 1, (other.id, 1): 1}


def test_later_events_of_a_parked_aggregate_wait_behind_it(app, clean_dsn, flaky):
    reactor, _ = flaky
    _, bad, _ = parked_history(app, clean_dsn, flaky)

    waiting = letters(clean_dsn)[1]

    assert (waiting["aggregate_id"], waiting["aggregate_version"]) == (bad.id, 2)
    assert (waiting["state"], waiting["attempts"], waiting["error"]) == ("waiting", 0, None)
    assert reactor.attempts[(bad.id, 2)] == 0


def test_a_retry_after_a_fix_delivers_the_parked_event_and_those_behind_it_once(
    app, clean_dsn, flaky, pool
):
    reactor, watcher = flaky
    _, bad, _ = parked_history(app, clean_dsn, flaky)
    reactor.broken.clear()

    retried = request_retry(pool, letters(clean_dsn)[0]["id"])
    wait_until(
        lambda: {letter["state"] for letter in letters(clean_dsn)} == {"delivered"},
        what="the parked letter and the one behind it to be delivered",
    )
    grant(app, bad)  # after the retry, the aggregate's events flow again
    caught_up(clean_dsn, watcher)

    assert retried["state"] == "retrying"
    assert reactor.order[bad.id] == [1, 2, 3]
    assert [reactor.delivered[(bad.id, v)] for v in (1, 2, 3)] == [1, 1, 1]
    assert [letter["attempts"] for letter in letters(clean_dsn)] == [ATTEMPTS + 1, 1]


def test_a_retry_that_fails_again_stays_parked_with_its_attempts_bumped(
    app, clean_dsn, flaky, pool
):
    reactor, _ = flaky
    _, bad, _ = parked_history(app, clean_dsn, flaky)

    request_retry(pool, letters(clean_dsn)[0]["id"])
    wait_until(
        lambda: letters(clean_dsn)[0]["attempts"] == 2 * ATTEMPTS,
        what="the retry to fail again",
    )

    parked, waiting = letters(clean_dsn)
    assert parked["state"] == "parked" and waiting["state"] == "waiting"
    assert reactor.attempts[(bad.id, 1)] == 2 * ATTEMPTS
    assert reactor.delivered[(bad.id, 1)] == 0 and reactor.attempts[(bad.id, 2)] == 0


def test_only_a_parked_letter_can_be_retried(app, clean_dsn, flaky, pool):
    parked_history(app, clean_dsn, flaky)
    waiting = letters(clean_dsn)[1]

    with pytest.raises(IllegalTransition):
        request_retry(pool, waiting["id"])
    with pytest.raises(NotFound):
        request_retry(pool, waiting["id"] + 1000)


def test_the_status_counts_each_reactors_open_dead_letters(app, clean_dsn, flaky):
    parked_history(app, clean_dsn, flaky)

    result = CliRunner().invoke(
        cli,
        ["projections", "status"],
        env={"CHRONICLE_DATABASE_URL": clean_dsn, "CHRONICLE_JWT_SECRET": TEST_SECRET},
    )

    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith(NAME))
    position = str(head(clean_dsn))
    assert row.split()[1:] == ["reactor", position, position, "0", "0.0", "active", "0", "1", "1"]


def test_the_status_says_how_long_the_oldest_unhandled_event_has_waited(app, clean_dsn):
    insert_retired_event(app, clean_dsn, uuid4())  # happened on 2026-01-01, handled by none

    rows = projection_status(clean_dsn)

    assert rows and all(row["lag"] == 1 for row in rows)
    waited = (datetime.now(UTC) - datetime(2026, 1, 1, tzinfo=UTC)).total_seconds()
    assert all(abs(row["lag_seconds"] - waited) < 60 for row in rows)


def test_only_the_active_instance_of_a_reactor_delivers(app, clean_dsn, flaky):
    first, first_watcher = flaky
    second = FlakyReactor()
    runner, watcher = start(clean_dsn, app, second)
    try:
        accounts = [open_account(app) for _ in range(5)]
        caught_up(clean_dsn, first_watcher)
    finally:
        runner.stop()
        watcher.stop()

    assert first.delivered + second.delivered == {(a.id, 1): 1 for a in accounts}


def test_a_restarted_reactor_goes_on_from_its_position(app, clean_dsn):
    before = FlakyReactor()
    runner, watcher = start(clean_dsn, app, before)
    first = open_account(app)
    caught_up(clean_dsn, watcher)
    runner.stop()
    watcher.stop()

    after = FlakyReactor()
    runner, watcher = start(clean_dsn, app, after)
    try:
        second = open_account(app)
        caught_up(clean_dsn, watcher)
    finally:
        runner.stop()
        watcher.stop()

    assert before.delivered == {(first.id, 1): 1}
    assert after.delivered == {(second.id, 1): 1}


def test_an_event_whose_class_is_gone_is_passed_over_not_parked(app, clean_dsn, flaky):
    reactor, watcher = flaky
    insert_retired_event(app, clean_dsn, uuid4())
    after = open_account(app)

    caught_up(clean_dsn, watcher)

    assert letters(clean_dsn) == []
    assert reactor.delivered[(after.id, 1)] == 1
