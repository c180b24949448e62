"""Admins list reactors' dead letters and retry one over HTTP; nobody else can."""

from collections.abc import Iterator

import pytest

from projections.engine.reactors import ReactorRunner
from tests.conftest import wait_until
from tests.e2e.flows import bearer, sign_up
from tests.integration.flaky import NAME, FlakyReactor, grant, open_account


@pytest.fixture
def flaky(live_server) -> Iterator[FlakyReactor]:
    """A reactor beside the real ones that fails for the aggregates in its ``broken``."""
    services = live_server.services
    reactor = FlakyReactor()
    runner = ReactorRunner(
        services.dsn,
        services.event_store,
        [reactor],
        services.watcher,
        poll_seconds=0.1,
        max_attempts=2,
        retry_seconds=0.01,
    ).start()
    yield reactor
    runner.stop()


@pytest.fixture
def parked(live_server, flaky) -> dict:
    """An account whose opening is parked, with a grant waiting behind it."""
    app = live_server.services.event_store
    account = open_account(app, broken=flaky.broken)
    position = grant(app, account)
    assert live_server.services.watcher.wait_for_position([NAME], position, timeout=30)
    return {"account": account, "app": app}


def letters(http, admin, **params):
    response = http.get("/admin/dead-letters", headers=admin, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_admin_lists_open_dead_letters_oldest_first(http, admin, parked):
    listed = letters(http, admin, reactor=NAME)

    assert [(d["aggregate_version"], d["state"]) for d in listed] == [(1, "parked"), (2, "waiting")]
    assert {d["aggregate_id"] for d in listed} == {str(parked["account"].id)}
    assert listed[0]["attempts"] == 2 and "cannot deliver" in listed[0]["error"]


def test_an_admin_filters_dead_letters_by_state(http, admin, parked):
    listed = letters(http, admin, state="waiting")

    assert [d["aggregate_version"] for d in listed] == [2]


def test_a_retry_after_a_fix_delivers_each_event_once_in_order(http, admin, parked, flaky):
    account = parked["account"]
    first = letters(http, admin, reactor=NAME)[0]
    flaky.broken.clear()

    response = http.post(f"/admin/dead-letters/{first['id']}/retry", headers=admin)
    wait_until(lambda: not letters(http, admin, reactor=NAME), what="both letters delivered")

    assert response.status_code == 202 and response.json()["state"] == "retrying"
    assert flaky.order[account.id] == [1, 2]
    assert letters(http, admin, reactor=NAME, state="delivered")[0]["delivered_at"]


def test_retrying_a_waiting_letter_is_a_conflict(http, admin, parked):
    waiting = letters(http, admin, state="waiting")[0]

    response = http.post(f"/admin/dead-letters/{waiting['id']}/retry", headers=admin)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "illegal_transition"


def test_retrying_an_unknown_letter_is_not_found(http, admin):
    response = http.post("/admin/dead-letters/987654321/retry", headers=admin)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("letter_id", ["0", "x", str(2**63)])
def test_a_bad_letter_id_is_refused(http, admin, letter_id):
    response = http.post(f"/admin/dead-letters/{letter_id}/retry", headers=admin)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_dead_letters_need_a_token(http):
    assert http.get("/admin/dead-letters").status_code == 401
    assert http.post("/admin/dead-letters/1/retry").status_code == 401


def test_dead_letters_are_for_admins_only(http, live_server):
    _, user = sign_up(http)
    worker = bearer(live_server.services.tokens.issue("gpu-1", "worker"))

    for headers in (user, worker):
        assert http.get("/admin/dead-letters", headers=headers).status_code == 403
        assert http.post("/admin/dead-letters/1/retry", headers=headers).status_code == 403
