"""/metrics carries the real values: conflicts that really happened, per command type, and each
consumer's position and lag as projection_position holds them (a stopped projection too)."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import psycopg
import pytest

from domain.commands.usercredits import GrantCredits
from eventstore.application import open_application
from eventstore.executor import CommandExecutor
from projections.engine.log import log_head
from projections.engine.runner import ProjectionRunner
from projections.registry import consumer_kinds
from tests.conftest import wait_until
from tests.e2e.flows import fund, sign_up, wait_projected
from tests.e2e.test_metrics import sample, scrape
from tests.integration.flaky import open_account
from tests.integration.test_poison_events import PickyProjection, consumer, create_projected_table
from tests.unit.documents import document

TESTS = "/api/admin/tests"


def save(http, admin, test_id, version, title):
    headers = {**admin, "If-Match": f'"{version}"'}
    return http.put(f"{TESTS}/{test_id}", headers=headers, json=document(title=title))


def test_two_saves_over_one_version_count_one_ok_and_one_version_conflict(http, admin):
    created = http.post(TESTS, headers=admin, json=document()).raise_for_status().json()

    with ThreadPoolExecutor(2) as pool:
        saves = list(pool.map(lambda t: save(http, admin, created["test_id"], 1, t), ["A", "B"]))
    samples = scrape(http)

    assert sorted(r.status_code for r in saves) == [200, 409]
    answers = {
        dict(labels)["outcome"]: value
        for (name, labels), value in samples.items()
        if name == "chronicle_commands_total" and ("command", "SaveTestDocument") in labels
    }
    assert answers == {"ok": 1, "version_conflict": 1}
    assert sample(samples, "chronicle_command_seconds_count", command="SaveTestDocument") == 2


@pytest.fixture
def other_process(clean_dsn) -> Iterator[CommandExecutor]:
    """A second executor on the same database, as another API process has."""
    app = open_application(clean_dsn, pool_size=2)
    executor = CommandExecutor(app)
    yield executor
    executor.close()
    app.close()


def test_a_write_from_another_process_is_a_counted_conflict_then_a_retried_ok(
    live_server, http, admin, other_process
):
    user_id, auth = sign_up(http)  # the server's executor now holds the account at version 1
    other_process.execute(GrantCredits(UUID(user_id), 7, "elsewhere", "admin"))

    position = fund(http, admin, user_id, 5)  # decided on the stale version 1 first
    samples = scrape(http)

    me = http.get("/me", headers=auth, params={"min_position": position}).raise_for_status()
    assert me.json()["credits"] == live_server.services.settings.signup_credits + 7 + 5
    assert sample(samples, "chronicle_command_batches_total", result="conflicted") == 1
    assert sample(samples, "chronicle_command_conflicts_total", command="ChangePlan") == 1
    assert sample(samples, "chronicle_commands_total", command="ChangePlan", outcome="ok") == 1
    assert sample(samples, "chronicle_commands_total", command="GrantCredits", outcome="ok") == 1


@pytest.fixture
def stopped(live_server) -> Iterator[PickyProjection]:
    """A projection beside the real ones, stopped at an event it cannot project."""
    services = live_server.services
    create_projected_table(services.dsn)
    projection = PickyProjection()
    runner = ProjectionRunner(
        services.dsn, services.event_store, [projection], services.watcher, poll_seconds=0.1
    ).start()
    open_account(services.event_store)
    open_account(services.event_store, broken=projection.broken)
    wait_until(lambda: consumer(services.dsn, projection.name).get("state") == "failed")
    yield projection
    runner.stop()


def test_each_consumers_position_and_lag_are_those_of_projection_position(
    live_server, http, admin, stopped
):
    user_id, _ = sign_up(http)
    fund(http, admin, user_id, 5)
    services = live_server.services
    running = list(consumer_kinds())
    wait_projected(services, running)
    head = log_head(services.reads)
    with psycopg.connect(services.dsn) as conn:
        rows = conn.execute("SELECT name, kind, position FROM projection_position").fetchall()

    samples = scrape(http)

    assert {name for name, _, _ in rows} == {*running, stopped.name}
    for name, kind, position in rows:
        labels = {"kind": kind, "name": name}
        assert sample(samples, "chronicle_consumer_position", **labels) == position, name
        assert sample(samples, "chronicle_consumer_lag_events", **labels) == head - position, name
    picky = {"kind": "projection", "name": stopped.name}
    assert sample(samples, "chronicle_consumer_position", **picky) == 1
    assert sample(samples, "chronicle_consumer_lag_events", **picky) == head - 1 > 0
    assert sample(samples, "chronicle_consumer_failed", **picky) == 1
    assert sample(samples, "chronicle_consumer_lag_seconds", **picky) > 0
