"""The job pipeline over HTTP with the local object store: upload, dispatch, callbacks, credits."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.flows import (
    bearer,
    create_job,
    fund,
    lease,
    ready_job,
    report,
    settle,
    sign_up,
    wait_projected,
)


@pytest.fixture
def user(http, admin):
    user_id, auth = sign_up(http)
    fund(http, admin, user_id, 90)  # pro plan, 100 credits
    return user_id, auth


def me(http, auth, position=None):
    params = {"min_position": position} if position else {}
    return http.get("/me", headers=auth, params=params).json()


def test_presets_list_cost_and_max_items(http):
    presets = {p["id"]: p for p in http.get("/presets").json()}
    assert presets["portrait"]["credit_cost"] == 1
    assert presets["bulk-tagging"]["max_items"] == 10_000


def test_a_job_runs_end_to_end_and_commits_what_succeeded(http, user, worker, live_server):
    _, auth = user
    job = ready_job(http, auth, "upscale-4x", items=3)  # 2 credits per item
    assert me(http, auth, job["position"])["reserved_credits"] == 6
    items = lease(http, worker)
    assert sorted(i["item_index"] for i in items) == [0, 1, 2]
    for item in items:
        assert http.get(item["download_url"]).content.startswith(b"image-bytes-")
        put = http.put(
            item["result_upload_url"],
            content=b'{"ok": true}',
            headers={"Content-Type": "application/json"},
        )
        assert put.status_code == 200
    answers = [
        report(http, worker, items[0]),
        report(http, worker, items[1]),
        report(http, worker, items[2], outcome="failed"),
    ]
    assert [a.json()["status"] for a in answers] == ["recorded"] * 3
    settle(live_server.services)
    detail = http.get(f"/jobs/{job['job_id']}", headers=auth).json()
    progress = {"done": 2, "succeeded": 2, "failed": 1, "total": 3}
    assert (detail["status"], detail["progress"]) == ("done", progress)
    assert [(i["item_index"], i["index"], i["outcome"]) for i in detail["items"]] == [
        (0, 0, "succeeded"),
        (1, 1, "succeeded"),
        (2, 2, "failed"),
    ]
    assert detail["consumed"] == 4 and detail["finished_at"] is not None
    expected = {"credits": 96, "reserved_credits": 0, "active_jobs": 0}
    assert me(http, auth).items() >= expected.items()


def test_a_job_whose_items_all_fail_is_refunded(http, user, worker, live_server):
    _, auth = user
    job = ready_job(http, auth, items=2)
    for item in lease(http, worker):
        report(http, worker, item, outcome="failed").raise_for_status()
    settle(live_server.services)
    assert http.get(f"/jobs/{job['job_id']}", headers=auth).json()["status"] == "failed"
    assert me(http, auth)["credits"] == 100


def test_confirming_before_the_upload_names_the_missing_objects(http, user):
    _, auth = user
    job = create_job(http, auth, items=2).json()
    response = http.post(f"/jobs/{job['job_id']}/confirm-upload", headers=auth)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "uploads_missing"
    assert all(u["key"] in error["message"] for u in job["uploads"])


def test_execute_before_upload_is_a_409_naming_the_state(http, user):
    _, auth = user
    job = create_job(http, auth).json()
    response = http.post(f"/jobs/{job['job_id']}/execute", headers=auth)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "illegal_transition"
    assert "'created'" in response.json()["error"]["message"]


def test_a_callback_on_a_created_job_is_a_409(http, user, worker):
    _, auth = user
    job = create_job(http, auth).json()
    response = http.post(
        f"/jobs/{job['job_id']}/callback",
        headers=worker,
        json={"item_index": 0, "outcome": "succeeded", "idempotency_key": "k"},
    )
    assert response.status_code == 409 and "'created'" in response.json()["error"]["message"]


def test_an_upload_with_another_content_type_is_refused(http, user):
    _, auth = user
    job = create_job(http, auth, items=1).json()
    response = http.put(
        job["uploads"][0]["url"], content=b"x", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 403


def test_cancel_refunds_the_reservation_and_later_callbacks_are_ignored(
    http, user, worker, live_server
):
    _, auth = user
    job = ready_job(http, auth, items=2)
    items = lease(http, worker)
    canceled = http.post(f"/jobs/{job['job_id']}/cancel", headers=auth)
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    late = report(http, worker, items[0])
    assert late.status_code == 200 and late.json()["status"] == "ignored"
    settle(live_server.services)
    assert me(http, auth)["credits"] == 100
    again = http.post(f"/jobs/{job['job_id']}/cancel", headers=auth)
    assert again.status_code == 409


def test_a_repeated_callback_changes_nothing_and_gets_the_same_answer(http, user, worker):
    _, auth = user
    ready_job(http, auth, items=2)
    item = lease(http, worker)[0]
    first = report(http, worker, item, key="same")
    again = report(http, worker, item, key="same")
    assert (again.status_code, again.json()) == (first.status_code, first.json())


def test_the_first_report_of_an_item_wins(http, user, worker):
    _, auth = user
    ready_job(http, auth, items=2)
    item = lease(http, worker)[0]
    report(http, worker, item, key="first").raise_for_status()
    second = report(http, worker, item, outcome="failed", key="second").json()
    assert (second["status"], second["outcome"]) == ("already_reported", "succeeded")


def test_the_first_callback_moves_a_queued_job_to_running(http, user, worker, live_server):
    _, auth = user
    job = ready_job(http, auth, items=2)
    position = report(http, worker, lease(http, worker)[0]).json()["position"]
    detail = http.get(
        f"/jobs/{job['job_id']}", headers=auth, params={"min_position": position}
    ).json()
    assert detail["status"] == "running" and detail["started_at"] is not None


def test_jobs_are_listed_newest_first_with_a_cursor(http, user):
    _, auth = user
    created = [create_job(http, auth, items=1).json() for _ in range(3)]
    first = http.get(
        "/jobs", headers=auth, params={"limit": 2, "min_position": created[-1]["position"]}
    ).json()
    second = http.get(
        "/jobs", headers=auth, params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    listed = [j["job_id"] for j in first["jobs"] + second["jobs"]]
    assert listed == [job["job_id"] for job in reversed(created)]


def test_another_users_job_is_not_found(http, user):
    _, auth = user
    job = create_job(http, auth).json()
    _, stranger = sign_up(http)
    for response in (
        http.get(f"/jobs/{job['job_id']}", headers=stranger),
        http.post(f"/jobs/{job['job_id']}/cancel", headers=stranger),
        http.post(f"/jobs/{job['job_id']}/execute", headers=stranger),
    ):
        assert response.status_code == 404
    assert http.get(f"/jobs/{uuid.uuid4()}", headers=auth).status_code == 404


def test_workers_and_users_cannot_use_each_others_endpoints(http, user, worker):
    _, auth = user
    assert (
        http.post("/jobs", headers=worker, json={"preset": "portrait", "item_count": 1}).status_code
        == 403
    )
    assert http.get("/me", headers=worker).status_code == 403
    assert http.post("/worker/leases", headers=auth, json={}).status_code == 403
    response = http.post(
        f"/jobs/{uuid.uuid4()}/callback",
        headers=auth,
        json={"item_index": 0, "outcome": "failed", "idempotency_key": "k"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "body, field",
    [
        ({"preset": "portrait", "item_count": 21}, "21"),
        ({"preset": "nope", "item_count": 1}, "nope"),
        ({"preset": "portrait", "item_count": 0}, "body.item_count"),
        ({"preset": "portrait"}, "body.item_count"),
    ],
)
def test_a_job_out_of_its_presets_bounds_is_a_422(http, user, body, field):
    _, auth = user
    response = http.post("/jobs", headers=auth, json=body)
    assert response.status_code == 422 and field in response.json()["error"]["message"]


def test_a_job_beyond_the_balance_is_a_402_and_writes_nothing(http, admin, live_server):
    user_id, auth = sign_up(http)  # free plan, 10 credits
    response = create_job(http, auth, "upscale-4x", items=6)
    assert response.status_code == 402
    wait_projected(live_server.services, ["jobs", "user_summary"])
    assert http.get("/jobs", headers=auth).json()["jobs"] == []
    assert me(http, auth)["credits"] == 10


def test_twenty_parallel_job_requests_with_credits_for_three_make_three_jobs(
    http, admin, live_server
):
    user_id, auth = sign_up(http)
    fund(http, admin, user_id, 2)  # pro plan, 12 credits: three 4-credit jobs
    with ThreadPoolExecutor(20) as pool:
        responses = list(
            pool.map(lambda _: create_job(http, auth, "upscale-4x", items=2), range(20))
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 3 + [402] * 17
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 402} == {
        "insufficient_credits"
    }
    wait_projected(live_server.services, ["user_summary", "jobs"])
    expected = {"credits": 0, "reserved_credits": 12, "active_jobs": 3}
    assert me(http, auth).items() >= expected.items()
    assert len(http.get("/jobs", headers=auth).json()["jobs"]) == 3


def test_concurrent_workers_never_lease_the_same_item(http, user, live_server):
    _, auth = user
    ready_job(http, auth, "bulk-tagging", items=60)
    workers = [bearer(live_server.services.tokens.issue(f"w{n}", "worker")) for n in range(6)]
    leased, lock = [], threading.Lock()

    def take(worker):
        while items := lease(http, worker, max_items=3):
            with lock:
                leased.extend((i["job_id"], i["item_index"]) for i in items)

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(take, workers))
    assert sorted(i for _, i in leased) == list(range(60))


def test_a_job_posted_twice_under_one_key_is_created_and_reserved_once(http, user):
    _, auth = user
    headers = {**auth, "Idempotency-Key": "job-1"}
    body = {"preset": "upscale-4x", "item_count": 2}
    first = http.post("/jobs", headers=headers, json=body)
    again = http.post("/jobs", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json()["job_id"] == first.json()["job_id"]
    keys = [[u["key"] for u in r.json()["uploads"]] for r in (first, again)]
    assert keys[0] == keys[1]
    assert me(http, auth, first.json()["position"])["reserved_credits"] == 4
