"""Batched worker reports over HTTP (`POST /jobs/{id}/callbacks`): each item answered as the
single-item route answers it, in request order, idempotent per item, counted exactly once."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from projections.engine.log import log_head
from tests.e2e.flows import bearer, fund, lease, ready_job, report, report_body, settle, sign_up

BATCH_MAX = 25


@pytest.fixture
def settings(settings):
    settings.callback_batch_max = BATCH_MAX
    return settings


@pytest.fixture
def user(http, admin):
    user_id, auth = sign_up(http)
    fund(http, admin, user_id, 90)  # pro plan, 100 credits
    return user_id, auth


def post_batch(http, worker, job_id, reports):
    return http.post(f"/jobs/{job_id}/callbacks", headers=worker, json={"items": reports})


def answers(response):
    assert response.status_code == 200, response.text
    return response.json()["answers"]


def job_of(http, auth, job_id, **params):
    return http.get(f"/jobs/{job_id}", headers=auth, params=params).raise_for_status().json()


def test_a_batch_records_each_item_once_and_answers_in_request_order(
    http, user, worker, live_server
):
    _, auth = user
    job = ready_job(http, auth, items=20)
    items = lease(http, worker)[::-1]  # any order: the answers follow the request
    reports = [report_body(i, "failed" if i["item_index"] < 3 else "succeeded") for i in items]

    found = answers(post_batch(http, worker, job["job_id"], reports))

    assert [a["idempotency_key"] for a in found] == [r["idempotency_key"] for r in reports]
    assert {a["status_code"] for a in found} == {200}
    assert [(a["answer"]["item_index"], a["answer"]["outcome"]) for a in found] == [
        (r["item_index"], r["outcome"]) for r in reports
    ]
    assert {a["answer"]["status"] for a in found} == {"recorded"}
    settle(live_server.services)
    detail = job_of(http, auth, job["job_id"])
    progress = {"done": 17, "succeeded": 17, "failed": 3, "total": 20}
    assert (detail["status"], detail["progress"], detail["consumed"]) == ("done", progress, 17)
    assert http.get("/me", headers=auth).json()["credits"] == 100 - 17


def test_a_repeated_batch_gets_the_same_answers_and_records_nothing(
    http, user, worker, live_server
):
    _, auth = user
    job = ready_job(http, auth, items=10)
    reports = [report_body(i) for i in lease(http, worker)]
    first = answers(post_batch(http, worker, job["job_id"], reports))
    settle(live_server.services)  # the saga's events are in: what follows can only be ours
    head = log_head(live_server.services.reads)

    again = answers(post_batch(http, worker, job["job_id"], reports))

    assert again == first
    assert log_head(live_server.services.reads) == head
    position = max(a["answer"]["position"] for a in first)
    detail = job_of(http, auth, job["job_id"], min_position=position)
    assert (detail["status"], detail["progress"]["succeeded"]) == ("done", 10)


def test_a_batch_mixing_new_and_reported_items_records_only_the_new(http, user, worker):
    _, auth = user
    job = ready_job(http, auth, items=6)
    items = lease(http, worker)
    singles = [report(http, worker, i).raise_for_status().json() for i in items[:2]]
    reports = [report_body(i) for i in items[:4]]
    reports.append(report_body(items[1], key="another-key"))  # item 1 again, under a new key

    found = answers(post_batch(http, worker, job["job_id"], reports))

    assert [a["answer"] for a in found[:2]] == singles  # the first answers, positions too
    assert [a["answer"]["status"] for a in found[2:]] == [
        "recorded",
        "recorded",
        "already_reported",
    ]
    last = max(a["answer"]["position"] for a in found[2:4])
    detail = job_of(http, auth, job["job_id"], min_position=last)
    assert (detail["status"], detail["progress"]["succeeded"]) == ("running", 4)


def test_a_repeat_through_the_single_route_gets_the_batchs_answer(http, user, worker):
    _, auth = user
    job = ready_job(http, auth, items=2)
    items = lease(http, worker)
    found = answers(post_batch(http, worker, job["job_id"], [report_body(i) for i in items]))

    single = report(http, worker, items[0])

    assert single.status_code == 200
    assert single.json() == found[0]["answer"]


def test_each_item_that_fails_is_answered_with_its_error_beside_the_others(
    http, user, worker, live_server
):
    _, auth = user
    job = ready_job(http, auth, items=3)
    items = lease(http, worker)
    other = bearer(live_server.services.tokens.issue("gpu-2", "worker"))
    out_of_range = {**report_body(items[0], key="k-99"), "item_index": 99}
    reused = report_body(items[1], outcome="failed")  # the key of item 1, now with another body
    report(http, worker, items[1]).raise_for_status()

    found = answers(
        post_batch(http, other, job["job_id"], [report_body(items[2]), out_of_range, reused])
    )
    mine = answers(post_batch(http, worker, job["job_id"], [report_body(items[2])]))

    codes = [(a["status_code"], a["error"] and a["error"]["code"]) for a in found]
    assert codes == [
        (409, "lease_not_held"),
        (422, "invalid_command"),
        (422, "idempotency_key_reused"),
    ]
    assert "not leased to this worker" in found[0]["error"]["message"]
    assert all(a["answer"] is None for a in found)
    assert mine[0]["answer"]["status"] == "recorded"
    assert (
        job_of(http, auth, job["job_id"], min_position=mine[0]["answer"]["position"])["progress"][
            "succeeded"
        ]
        == 2
    )


@pytest.mark.parametrize(
    ("items", "named"),
    [
        (0, "items"),
        (BATCH_MAX + 1, f"at most {BATCH_MAX} items per request, got {BATCH_MAX + 1}"),
        ("same key", "idempotency_key repeated in one request: k"),
    ],
)
def test_a_malformed_batch_is_refused_whole_with_422_naming_the_problem(
    http, user, worker, live_server, items, named
):
    _, auth = user
    job = ready_job(http, auth, items=2)
    leased = lease(http, worker)
    if items == "same key":
        reports = [report_body(i, key="k") for i in leased]
    else:
        reports = [report_body(leased[0], key=f"k-{n}") for n in range(items)]
    head = log_head(live_server.services.reads)

    response = post_batch(http, worker, job["job_id"], reports)

    assert response.status_code == 422, response.text
    assert named in response.text
    assert log_head(live_server.services.reads) == head


def test_a_batch_needs_a_worker_token(http, user):
    _, auth = user
    job = ready_job(http, auth, items=1)
    body = {"items": [{"item_index": 0, "outcome": "failed", "idempotency_key": "k"}]}

    as_user = http.post(f"/jobs/{job['job_id']}/callbacks", headers=auth, json=body)
    anonymous = http.post(f"/jobs/{job['job_id']}/callbacks", json=body)

    assert (as_user.status_code, anonymous.status_code) == (403, 401)


def test_workers_posting_overlapping_batches_count_each_item_once(http, user, worker, live_server):
    _, auth = user
    job = ready_job(http, auth, "bulk-tagging", items=60)
    second = bearer(live_server.services.tokens.issue("gpu-2", "worker"))
    leased = lease(http, worker, max_items=30) + lease(http, second, max_items=30)
    reports = [
        report_body(i, "failed" if i["item_index"] % 6 == 0 else "succeeded") for i in leased
    ]
    # Each worker, from two clients, posts windows of 20 over all 60 items, overlapping by 10:
    # its own items are recorded, the other's are refused until reported, then answered.
    windows = [reports[start : start + 20] for start in range(0, 60, 10)]
    posts = [(w, window) for w in (worker, second) for window in windows for _ in range(2)]

    with ThreadPoolExecutor(8) as pool:
        found = list(
            pool.map(lambda p: answers(post_batch(http, p[0], job["job_id"], p[1])), posts)
        )

    replies = [a for batch in found for a in batch]
    assert {(a["status_code"], a["error"] and a["error"]["code"]) for a in replies} <= {
        (200, None),
        (409, "lease_not_held"),
    }
    by_key: dict[str, set] = {}
    for a in replies:
        if a["answer"]:
            by_key.setdefault(a["idempotency_key"], set()).add(a["answer"]["position"])
    assert len(by_key) == 60 and all(len(p) == 1 for p in by_key.values())
    settle(live_server.services)
    detail = job_of(http, auth, job["job_id"])
    progress = {"done": 50, "succeeded": 50, "failed": 10, "total": 60}
    assert (detail["status"], detail["progress"], detail["consumed"]) == ("done", progress, 50)
    me = http.get("/me", headers=auth).json()
    assert (me["credits"], me["reserved_credits"]) == (100 - 50, 0)
