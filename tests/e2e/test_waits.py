"""Read-your-writes waits hold no request thread; an unreachable position fails at once."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from api.bootstrap import services
from tests.conftest import wait_until
from tests.e2e.flows import bearer, sign_up
from tests.e2e.serving import serve

WAITERS = 40


@pytest.fixture
def stalled(clean_dsn, settings):
    """The API on 4 request threads, with no projector running: every wait runs to its end."""
    settings.threads = 4
    settings.read_wait_seconds = 3
    with services(settings, clean_dsn, run_projections=False) as built, serve(built) as served:
        yield served


def test_many_waiting_requests_do_not_starve_the_others(stalled):
    limits = httpx.Limits(max_connections=WAITERS + 2)
    with httpx.Client(base_url=stalled.url, timeout=30, limits=limits) as http:
        _, auth = sign_up(http)  # its account never reaches user_summary: GET /me waits

        with ThreadPoolExecutor(WAITERS) as pool:
            waiting = [pool.submit(http.get, "/me", headers=auth) for _ in range(WAITERS)]
            wait_until(
                lambda: stalled.requests_in_flight == WAITERS,
                timeout=10,
                what="the server to receive every waiting request",
            )
            started = time.monotonic()
            health = http.get("/health")
            presets = http.get("/presets")  # a sync route: it needs a request thread
            elapsed = time.monotonic() - started
            all_pending = not any(w.done() for w in waiting)
            answers = [w.result() for w in waiting]

    assert health.status_code == presets.status_code == 200
    assert all_pending, "the waits ended before the other requests were measured"
    assert elapsed < 1.0
    assert {a.status_code for a in answers} == {503}
    assert {a.json()["error"]["code"] for a in answers} == {"projection_behind"}


@pytest.mark.parametrize(
    "path, role", [("/me", "user"), ("/rules", "user"), ("/admin/users/{user}/ledger", "admin")]
)
def test_a_position_beyond_the_log_head_is_refused_at_once(live_server, http, path, role):
    user_id, auth = sign_up(http)
    if role == "admin":
        auth = bearer(live_server.services.tokens.issue("ann", "admin"))

    started = time.monotonic()
    response = http.get(path.format(user=user_id), headers=auth, params={"min_position": 10**12})
    elapsed = time.monotonic() - started

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [f["field"] for f in error["fields"]] == ["query.min_position"]
    assert elapsed < live_server.services.settings.read_wait_seconds / 2


def test_a_reachable_position_is_still_answered_once_reached(live_server, http, admin):
    user_id, auth = sign_up(http)
    grant = http.post(
        f"/admin/users/{user_id}/credits", headers=admin, json={"amount": 7, "reason": "ryw"}
    ).raise_for_status()

    me = http.get("/me", headers=auth, params={"min_position": grant.json()["position"]})

    assert me.status_code == 200
    assert me.json()["credits"] == grant.json()["credits"]
