"""The audit log's JSON API over HTTP: events by filter and cursor, a request's events, time
travel, history with diffs, a stored event whose class is gone; for admins only."""

from datetime import datetime, timedelta

import pytest

from projections.engine.log import log_head
from tests.e2e.flows import create_job, fund, sign_up
from tests.integration.auditlog import insert_retired_event

PATHS = [
    "/api/admin/events",
    "/api/admin/aggregates/00000000-0000-0000-0000-000000000001",
    "/api/admin/aggregates/00000000-0000-0000-0000-000000000001/history",
    "/api/admin/correlations/req-1",
]


def events(http, admin, **params):
    response = http.get("/api/admin/events", headers=admin, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def funded_user(http, admin):
    """A user put on pro with 10 credits by the admin; its id, auth and the last position."""
    user_id, auth = sign_up(http)
    return user_id, auth, fund(http, admin, user_id, 10)


@pytest.mark.parametrize("path", PATHS)
def test_a_user_token_is_forbidden_and_no_token_is_unauthenticated(http, path):
    _, user = sign_up(http)

    assert http.get(path, headers=user).status_code == 403
    assert http.get(path).status_code == 401


def test_an_actor_filter_pages_newest_first_by_cursor(http, admin):
    user_id, _, position = funded_user(http, admin)

    first = events(http, admin, actor="admin:ann", limit=1, min_position=position)
    second = events(http, admin, actor="admin:ann", limit=1, cursor=first["next_cursor"])

    assert [e["event_type"] for e in first["events"] + second["events"]] == [
        "UserCredits.Granted",
        "UserCredits.PlanChanged",
    ]
    assert first["events"][0]["position"] == position
    data = first["events"][0]["data"]
    assert (data["amount"], data["reason"]) == (10, "test")
    assert {e["aggregate_id"] for e in first["events"] + second["events"]} == {user_id}


def test_a_correlation_shows_everything_one_request_caused_with_causation(http, admin):
    _, auth, _ = funded_user(http, admin)
    created = create_job(http, auth).raise_for_status()
    request_id = created.headers["x-request-id"]

    response = http.get(
        f"/api/admin/correlations/{request_id}",
        headers=admin,
        params={"min_position": created.json()["position"]},
    )

    assert response.status_code == 200, response.text
    found = response.json()["events"]
    assert sorted(e["event_type"] for e in found) == [
        "Job.Created",
        "UserCredits.QuotaUsed",  # the job counted against the plan's daily quota
        "UserCredits.Reserved",
    ]
    assert {e["causation_id"] for e in found} == {f"request:{request_id}"}
    assert [e["position"] for e in found] == sorted(e["position"] for e in found)


def test_a_request_id_of_every_accepted_character_is_reachable_as_a_correlation(http, admin):
    user_id, _ = sign_up(http)
    request_id = "qa.7a2f_1cd0~x-y" + "Z9" * 56  # all the kinds of character, 128 long
    granted = http.post(
        f"/admin/users/{user_id}/credits",
        headers={**admin, "X-Request-ID": request_id},
        json={"amount": 1, "reason": "test"},
    ).raise_for_status()

    response = http.get(
        f"/api/admin/correlations/{request_id}",
        headers=admin,
        params={"min_position": granted.json()["position"]},
    )

    assert response.status_code == 200, response.text
    assert [e["event_type"] for e in response.json()["events"]] == ["UserCredits.Granted"]


def test_time_travel_answers_the_state_at_a_version_or_a_time(http, admin):
    user_id, _, position = funded_user(http, admin)
    created = events(http, admin, aggregate_id=user_id, min_position=position)["events"][-1]
    path = f"/api/admin/aggregates/{user_id}"

    first = http.get(path, headers=admin, params={"version": 1}).json()
    now = http.get(path, headers=admin).json()
    at = http.get(path, headers=admin, params={"at": created["recorded_at"]}).json()

    assert (first["version"], now["version"], at["version"]) == (1, 3, 1)
    assert first["aggregate_type"] == "UserCredits" and at["state"] == first["state"]
    assert now["state"]["available"] == first["state"]["available"] + 10


def test_a_version_never_made_or_a_time_before_creation_is_404(http, admin):
    user_id, _, position = funded_user(http, admin)
    created = events(http, admin, aggregate_id=user_id, min_position=position)["events"][-1]
    before = datetime.fromisoformat(created["recorded_at"]) - timedelta(seconds=1)
    path = f"/api/admin/aggregates/{user_id}"

    assert http.get(path, headers=admin, params={"version": 4}).status_code == 404
    assert http.get(path, headers=admin, params={"at": before.isoformat()}).status_code == 404
    missing = "/api/admin/aggregates/00000000-0000-0000-0000-000000000001"
    assert http.get(missing, headers=admin).status_code == 404


@pytest.mark.parametrize(
    "path, params",
    [
        ("/api/admin/aggregates/{id}", {"at": "2026-01-01T00:00:00"}),
        ("/api/admin/aggregates/{id}", {"version": 1, "at": "2026-01-01T00:00:00Z"}),
        ("/api/admin/aggregates/{id}", {"version": 0}),
        ("/api/admin/events", {"cursor": "abc"}),
        ("/api/admin/events", {"since": "yesterday"}),
        ("/api/admin/events", {"actor": "a\x00b"}),
    ],
)
def test_bad_parameters_are_refused_with_a_client_error(http, admin, path, params):
    user_id, _, _ = funded_user(http, admin)

    response = http.get(path.format(id=user_id), headers=admin, params=params)

    assert response.status_code in (400, 422), response.text


@pytest.mark.parametrize(
    "path, name, value",
    [
        ("/api/admin/events", "until", "0.5"),
        ("/api/admin/events", "since", "0.5"),
        ("/api/admin/events", "since", "1767225600"),
        ("/api/admin/aggregates/{id}", "at", "1767225600"),
    ],
)
def test_a_bare_number_is_not_a_time_and_is_422_naming_the_parameter(
    http, admin, path, name, value
):
    user_id, _, _ = funded_user(http, admin)

    response = http.get(path.format(id=user_id), headers=admin, params={name: value})

    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"][0]["field"] == f"query.{name}"


def test_rfc3339_times_bound_the_events(http, admin):
    user_id, _, position = funded_user(http, admin)
    past, future = "2000-01-01T00:00:00Z", "2999-01-01T00:00:00+09:00"

    within = events(
        http, admin, aggregate_id=user_id, since=past, until=future, min_position=position
    )
    after = events(http, admin, aggregate_id=user_id, since=future)

    assert len(within["events"]) == 3
    assert after["events"] == []


def test_history_gives_each_version_its_event_and_its_diff(http, admin):
    user_id, _, _ = funded_user(http, admin)

    response = http.get(f"/api/admin/aggregates/{user_id}/history", headers=admin)

    assert response.status_code == 200, response.text
    versions = response.json()["versions"]
    assert [v["event"]["event_type"] for v in versions] == [
        "UserCredits.Created",
        "UserCredits.PlanChanged",
        "UserCredits.Granted",
    ]
    plan = [c for c in versions[1]["changes"] if c["path"] == "plan_name"]
    assert plan == [{"path": "plan_name", "kind": "changed", "old": "free", "new": "pro"}]
    granted = versions[2]["changes"]
    assert [(c["path"], c["new"] - c["old"]) for c in granted] == [("available", 10)]


def test_an_event_whose_class_is_gone_still_shows_with_its_topic_and_raw_data(
    http, admin, live_server
):
    services = live_server.services
    retired = "9f0c6a52-4c55-4ad7-9d0e-2f3b4a8a9d61"
    insert_retired_event(services.event_store, services.dsn, retired)

    found = events(http, admin, aggregate_id=retired, min_position=log_head(services.reads))

    [event] = found["events"]
    assert (event["topic"], event["resolved"]) == ("domain.retired:Retired.Painted", False)
    assert event["data"] == {"colour": "blue", "owner": retired}
    assert event["actor"] == "eve"


def test_time_travel_to_an_aggregate_whose_event_class_is_gone_is_a_clear_404(
    http, admin, live_server
):
    services = live_server.services
    retired = "5b1d2c3e-6f70-4a81-9b92-a3b4c5d6e7f8"
    insert_retired_event(services.event_store, services.dsn, retired)

    response = http.get(f"/api/admin/aggregates/{retired}", headers=admin)

    assert response.status_code == 404
    assert "class no longer exists" in response.text
