"""An event that breaks a limit of PostgreSQL (psycopg calls it an ``OperationalError``) is a
poison event, never an outage: a projection stops at it with its error, a reactor parks it."""

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from projections.engine.reactors import ReactorRunner
from projections.engine.runner import ProjectionRunner
from projections.engine.watcher import LogWatcher
from tests.conftest import wait_until
from tests.integration.flaky import grant, letters, open_account
from tests.integration.test_poison_events import consumer
from tests.integration.test_projections import head

# Past PostgreSQL's largest allocation: refused at once with SQLSTATE 54000, allocating nothing.
TOO_LONG = "SELECT repeat('xx', 600000000)"


class OverLimitProjection:
    """Breaks a program limit on the events of the aggregates in ``broken``."""

    name = "test_over_limit"
    tables = ()

    def __init__(self) -> None:
        self.broken: set[Any] = set()

    def project(self, cur: psycopg.Cursor[Any], position: int, event: Any) -> None:
        if event.originator_id in self.broken:
            cur.execute(TOO_LONG)


class OverLimitReactor:
    """Breaks a program limit, on its own connection, on the events of ``broken`` aggregates."""

    name = "test_over_limit_reactor"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.broken: set[Any] = set()

    def handles(self, event: Any) -> bool:
        return True

    def react(self, event: Any, position: int) -> None:
        if event.originator_id in self.broken:
            with psycopg.connect(self.dsn) as conn:
                conn.execute(TOO_LONG)


@pytest.fixture
def watcher(clean_dsn) -> Iterator[LogWatcher]:
    running = LogWatcher(clean_dsn).start()
    yield running
    running.stop()


def test_a_projection_stops_at_an_event_over_a_limit_with_its_error(
    app, clean_dsn, watcher, caplog
):
    projection = OverLimitProjection()
    open_account(app, projection.broken)
    poison = head(clean_dsn)
    runner = ProjectionRunner(clean_dsn, app, [projection], watcher, poll_seconds=0.1).start()
    try:
        wait_until(
            lambda: consumer(clean_dsn, projection.name).get("state") == "failed", what="a stop"
        )
    finally:
        runner.stop()

    stopped = consumer(clean_dsn, projection.name)
    assert (stopped["state"], stopped["failed_position"]) == ("failed", poison)
    assert "ProgramLimitExceeded" in stopped["error"]
    assert not [r for r in caplog.records if "paused" in r.getMessage()]


def test_a_reactor_parks_an_event_over_a_limit_instead_of_pausing(app, clean_dsn, watcher):
    reactor = OverLimitReactor(clean_dsn)
    account = open_account(app, reactor.broken)
    position = grant(app, account)
    runner = ReactorRunner(
        clean_dsn, app, [reactor], watcher, poll_seconds=0.1, max_attempts=2, retry_seconds=0.01
    ).start()
    try:
        assert watcher.wait_for_position([reactor.name], position, timeout=30)
    finally:
        runner.stop()

    parked = letters(clean_dsn, reactor.name)
    assert [letter["position"] for letter in parked] == [position - 1, position]
    assert [letter["state"] for letter in parked] == ["parked", "waiting"]
    assert "ProgramLimitExceeded" in parked[0]["error"]
