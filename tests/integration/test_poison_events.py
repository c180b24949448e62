"""A poison event stops its projection alone: once, with a status, until resumed or restarted."""

import dataclasses
import logging
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg.rows import dict_row
from typer.testing import CliRunner

from api.cli import cli
from domain.rule import Rule
from projections.engine.runner import ProjectionRunner
from projections.engine.watcher import LogWatcher
from projections.registry import all_projections
from tests.conftest import TEST_SECRET, wait_until
from tests.integration.flaky import open_account
from tests.integration.test_projections import head

OTHERS = ["user_summary", "credit_ledger", "jobs"]


def save_rule(app, name: str) -> int:
    """A rule created in the log; its position."""
    rule = Rule.create(uuid4(), uuid4(), name, "portrait", {})
    return int(app.save(rule)[-1].notification.id)


def save_poison_rule(app) -> int:
    """A rule whose name PostgreSQL text cannot hold (as if recorded before the API refused it)."""
    created: Any = Rule.create(uuid4(), uuid4(), "fine", "portrait", {}).collect_events()[0]
    return int(app.save(dataclasses.replace(created, name="a\x00b"))[-1].notification.id)


def consumer(dsn: str, name: str) -> dict[str, Any]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        row = conn.execute("SELECT * FROM projection_position WHERE name = %s", (name,))
        return row.fetchone() or {}


def status(dsn: str) -> str:
    env = {"CHRONICLE_DATABASE_URL": dsn, "CHRONICLE_JWT_SECRET": TEST_SECRET}
    result = CliRunner().invoke(cli, ["projections", "status"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def start(dsn, app, projections, watcher=None):
    watcher = watcher or LogWatcher(dsn).start()
    runner = ProjectionRunner(dsn, app, projections, watcher, poll_seconds=0.1).start()
    return runner, watcher


@pytest.fixture
def poisoned(app, clean_dsn, caplog) -> Iterator[dict[str, int]]:
    """The real projections past a rule whose name has a U+0000, with one more event after it."""
    caplog.set_level(logging.INFO)
    before = save_rule(app, "before")
    poison = save_poison_rule(app)
    open_account(app)
    runner, watcher = start(clean_dsn, app, all_projections())
    try:
        wait_until(lambda: consumer(clean_dsn, "rules").get("state") == "failed", what="a stop")
        assert watcher.wait_for_position(OTHERS, head(clean_dsn), timeout=30)
        open_account(app)  # wakes every projection: the stopped one must not try again
        assert watcher.wait_for_position(OTHERS, head(clean_dsn), timeout=30)
        yield {"before": before, "poison": poison}
    finally:
        runner.stop()
        watcher.stop()


def test_a_poison_event_stops_its_projection_after_the_events_before_it(clean_dsn, poisoned):
    rules = consumer(clean_dsn, "rules")

    assert rules["position"] == poisoned["before"] == poisoned["poison"] - 1
    assert rules["failed_position"] == poisoned["poison"]
    assert "DataError" in rules["error"] and "NUL" in rules["error"]
    with psycopg.connect(clean_dsn) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM rules")] == ["before"]


def test_a_poison_event_is_logged_once_without_a_traceback(poisoned, caplog):
    records = caplog.get_records("setup") + caplog.get_records("call")
    errors = [r for r in records if r.levelno >= logging.ERROR]

    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].exc_info is None
    assert f"projection rules stopped at log position {poisoned['poison']}" in errors[0].message


def test_the_other_projections_go_on_past_a_poison_event(clean_dsn, poisoned):
    positions = {name: consumer(clean_dsn, name) for name in OTHERS}

    assert {p["position"] for p in positions.values()} == {head(clean_dsn)}
    assert {p["state"] for p in positions.values()} == {"active"}


def test_projections_status_shows_the_stopped_projection_and_its_error(clean_dsn, poisoned):
    output = status(clean_dsn).splitlines()

    last, poison = head(clean_dsn), poisoned["poison"]
    rules = next(line for line in output if line.startswith("rules "))
    summary = next(line for line in output if line.startswith("user_summary "))
    lag = last - (poison - 1)
    fields = rules.split()[1:]
    waited = float(fields.pop(4))  # seconds since the poison event: the clock's business
    assert fields == ["projection", str(poison - 1), str(last), str(lag), "failed", "0", "0", "0"]
    assert waited >= 0
    assert summary.split()[1:7] == ["projection", str(last), str(last), "0", "0.0", "active"]
    assert any(
        line.startswith(f"rules stopped at log position {poison} ") and "NUL" in line
        for line in output
    )


class PickyProjection:
    """Records each position it projects; fails on the events of ``broken`` aggregates."""

    name = "test_picky"

    def __init__(self) -> None:
        self.broken: set[Any] = set()

    def project(self, cur: psycopg.Cursor[Any], position: int, event: Any) -> None:
        if event.originator_id in self.broken:
            raise ValueError(f"cannot project {event.originator_id}")
        cur.execute("INSERT INTO test_projected (position) VALUES (%s)", (position,))


@pytest.fixture
def picky(app, clean_dsn) -> Iterator[tuple[PickyProjection, LogWatcher]]:
    create_projected_table(clean_dsn)
    projection = PickyProjection()
    runner, watcher = start(clean_dsn, app, [projection])
    yield projection, watcher
    runner.stop()
    watcher.stop()


def create_projected_table(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS test_projected (position bigint PRIMARY KEY)")
        conn.execute("TRUNCATE test_projected")


def projected(dsn: str) -> list[int]:
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT position FROM test_projected ORDER BY 1")]


def test_a_resumed_projection_goes_on_from_its_poison_event_exactly_once(app, clean_dsn, picky):
    projection, watcher = picky
    first = open_account(app)
    bad = open_account(app, broken=projection.broken).id
    wait_until(lambda: consumer(clean_dsn, projection.name).get("state") == "failed")
    stopped_at = consumer(clean_dsn, projection.name)["position"]
    projection.broken.clear()

    env = {"CHRONICLE_DATABASE_URL": clean_dsn, "CHRONICLE_JWT_SECRET": TEST_SECRET}
    result = CliRunner().invoke(cli, ["projections", "resume", projection.name], env=env)
    open_account(app)
    assert watcher.wait_for_position([projection.name], head(clean_dsn), timeout=30)

    assert result.exit_code == 0, result.output
    assert first.id != bad and stopped_at == head(clean_dsn) - 2
    assert projected(clean_dsn) == list(range(1, head(clean_dsn) + 1))
    assert consumer(clean_dsn, projection.name)["state"] == "active"


def test_resume_refuses_a_projection_that_is_not_stopped(clean_dsn, picky):
    env = {"CHRONICLE_DATABASE_URL": clean_dsn, "CHRONICLE_JWT_SECRET": TEST_SECRET}

    result = CliRunner().invoke(cli, ["projections", "resume", "test_picky"], env=env)

    assert result.exit_code == 1
    assert "not a failed projection" in result.output


def test_a_restarted_runner_gives_a_stopped_projection_another_try(app, clean_dsn):
    projection = PickyProjection()
    create_projected_table(clean_dsn)
    open_account(app, broken=projection.broken)
    runner, watcher = start(clean_dsn, app, [projection])
    wait_until(lambda: consumer(clean_dsn, projection.name).get("state") == "failed")
    runner.stop()
    projection.broken.clear()

    runner, watcher = start(clean_dsn, app, [projection], watcher)
    try:
        assert watcher.wait_for_position([projection.name], head(clean_dsn), timeout=30)
    finally:
        runner.stop()
        watcher.stop()

    assert projected(clean_dsn) == [head(clean_dsn)]
    assert consumer(clean_dsn, projection.name)["state"] == "active"
