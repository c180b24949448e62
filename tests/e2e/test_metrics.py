"""/metrics over HTTP: real commands, requests, positions and dead letters, loopback only."""

import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.metrics import is_loopback
from projections.engine.log import log_head
from projections.registry import consumer_kinds
from tests.e2e.flows import fund, sign_up, wait_projected
from tests.e2e.test_dead_letters import flaky, parked  # noqa: F401  (fixtures)
from tests.integration.flaky import NAME

PROJECTIONS = [name for name, kind in consumer_kinds().items() if kind == "projection"]


def scrape(http) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics, keyed by name and labels."""
    response = http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def sample(samples, metric: str, /, **labels) -> float:
    return samples.get((metric, frozenset(labels.items())), 0.0)


def test_commands_show_their_count_and_latency_per_type(http, admin):
    user_id, _ = sign_up(http)
    fund(http, admin, user_id, 5)

    samples = scrape(http)

    for command in ("OpenAccount", "GrantCredits", "ChangePlan"):
        assert sample(samples, "chronicle_commands_total", command=command, outcome="ok") == 1
        assert sample(samples, "chronicle_command_seconds_count", command=command) == 1
        assert sample(samples, "chronicle_command_seconds_sum", command=command) > 0
    assert sample(samples, "chronicle_command_batches_total", result="committed") >= 3


def test_a_refused_command_counts_under_its_error_code(http, admin):
    nobody = uuid.uuid4()
    response = http.post(
        f"/admin/users/{nobody}/credits", headers=admin, json={"amount": 5, "reason": "x"}
    )

    samples = scrape(http)

    code = response.json()["error"]["code"]
    assert response.status_code == 404
    assert sample(samples, "chronicle_commands_total", command="GrantCredits", outcome=code) == 1
    assert sample(samples, "chronicle_commands_total", command="GrantCredits", outcome="ok") == 0


def test_requests_count_by_route_template_and_status(http, admin):
    user_id, _ = sign_up(http)
    fund(http, admin, user_id, 5)
    bad = http.get("/admin/users/not-a-uuid/ledger", headers=admin)
    http.get("/no/such/path")

    samples = scrape(http)

    route = "/admin/users/{user_id}/credits"
    assert sample(samples, "chronicle_http_requests_total", method="POST", route="/auth/anon",
                  status="201") == 1  # fmt: skip
    assert sample(samples, "chronicle_http_requests_total", method="POST", route=route,
                  status="200") == 1  # fmt: skip
    assert sample(samples, "chronicle_http_request_seconds_count", method="POST", route=route) == 1
    assert sample(samples, "chronicle_http_requests_total", method="GET", route="unmatched",
                  status="404") == 1  # fmt: skip
    ledger = "/admin/users/{user_id}/ledger"
    assert bad.status_code == 422
    assert sample(samples, "chronicle_http_requests_total", method="GET", route=ledger,
                  status="422") == 1  # fmt: skip
    routes = {dict(labels).get("route") for name, labels in samples if "http_request" in name}
    assert not any(user_id in str(r) or "not-a-uuid" in str(r) for r in routes)


def test_projection_positions_reach_the_log_head(live_server, http, admin):
    user_id, _ = sign_up(http)
    fund(http, admin, user_id, 5)
    wait_projected(live_server.services, PROJECTIONS)
    head = log_head(live_server.services.reads)

    samples = scrape(http)

    assert sample(samples, "chronicle_log_head") == head > 0
    for name in PROJECTIONS:
        labels = {"kind": "projection", "name": name}
        assert sample(samples, "chronicle_consumer_position", **labels) == head, name
        assert sample(samples, "chronicle_consumer_lag_events", **labels) == 0, name
        assert sample(samples, "chronicle_consumer_lag_seconds", **labels) == 0, name
    batches = [v for (n, _), v in samples.items() if n == "chronicle_consumer_batch_seconds_count"]
    assert sum(batches) >= 1


@pytest.mark.usefixtures("parked")
def test_a_parked_dead_letter_is_counted(http):
    samples = scrape(http)

    assert sample(samples, "chronicle_dead_letters", reactor=NAME, state="parked") == 1
    assert sample(samples, "chronicle_dead_letters", reactor=NAME, state="waiting") == 1


def test_a_client_not_on_loopback_gets_404(client):
    # The test client's address is "testclient": not a loopback address.
    response = client.get("/metrics")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_metrics_public_serves_any_client(client, running):
    running.settings.metrics_public = True

    response = client.get("/metrics")

    assert response.status_code == 200
    assert "chronicle_log_head" in response.text


@pytest.mark.parametrize(
    ("host", "local"),
    [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("::ffff:127.0.0.1", True),
     ("localhost", True), ("10.0.0.2", False), ("192.168.1.5", False), ("2001:db8::1", False),
     ("testclient", False), ("", False), (None, False)],
)  # fmt: skip
def test_only_loopback_addresses_count_as_local(host, local):
    assert is_loopback(host) is local
