"""Job flow defects found by black-box runs: canceled uploads, foreign callbacks, settlement."""

import pytest

from tests.e2e.flows import (
    bearer,
    create_job,
    fund,
    lease,
    ready_job,
    report,
    sign_up,
    upload_all,
    wait_projected,
)


@pytest.fixture
def user(http, admin):
    user_id, auth = sign_up(http)
    fund(http, admin, user_id, 90)  # pro plan, 100 credits
    return user_id, auth


@pytest.fixture
def other_worker(live_server):
    return bearer(live_server.services.tokens.issue("gpu-2", "worker"))


def upload_again(http, job, index=0):
    upload = job["uploads"][index]
    return http.put(upload["url"], content=b"late", headers={"Content-Type": job["content_type"]})


def error_of(response):
    return response.status_code, response.json()["error"]["code"]


# Finding 7: a job past `created` takes no uploads, and confirming it names its state.


def test_confirming_a_canceled_job_is_an_illegal_transition_naming_the_state(http, user):
    _, auth = user
    job = create_job(http, auth, items=2).raise_for_status().json()
    http.post(f"/jobs/{job['job_id']}/cancel", headers=auth).raise_for_status()
    response = http.post(f"/jobs/{job['job_id']}/confirm-upload", headers=auth)
    assert error_of(response) == (409, "illegal_transition")
    assert "'canceled'" in response.json()["error"]["message"]


def test_an_upload_url_stops_working_once_its_job_is_uploaded(http, user):
    _, auth = user
    job = create_job(http, auth, items=2).raise_for_status().json()
    upload_all(http, job)
    http.post(f"/jobs/{job['job_id']}/confirm-upload", headers=auth).raise_for_status()
    response = upload_again(http, job)
    assert error_of(response) == (409, "illegal_transition")
    assert "'uploaded'" in response.json()["error"]["message"]


def test_an_upload_url_of_a_canceled_job_is_refused(http, user):
    _, auth = user
    job = create_job(http, auth, items=1).raise_for_status().json()
    http.post(f"/jobs/{job['job_id']}/cancel", headers=auth).raise_for_status()
    assert error_of(upload_again(http, job)) == (409, "illegal_transition")


def test_an_upload_url_works_while_its_job_awaits_the_upload(http, user):
    _, auth = user
    job = create_job(http, auth, items=1).raise_for_status().json()
    assert upload_again(http, job).status_code == 200


# Finding 9: only the worker holding an item's lease reports it.


def test_another_workers_callback_is_refused(http, user, worker, other_worker):
    _, auth = user
    ready_job(http, auth, items=1)
    (item,) = lease(http, worker)
    response = report(http, other_worker, item)
    assert error_of(response) == (409, "lease_not_held")


def test_a_callback_for_an_unleased_item_is_refused(http, user, worker):
    _, auth = user
    job = ready_job(http, auth, items=2)
    (leased,) = lease(http, worker, max_items=1)
    unleased = {**leased, "item_index": 1 - leased["item_index"]}
    response = report(http, worker, unleased)
    assert error_of(response) == (409, "lease_not_held")
    detail = http.get(f"/jobs/{job['job_id']}", headers=auth).json()
    assert detail["status"] == "queued"


def test_the_lease_holders_callback_is_recorded(http, user, worker):
    _, auth = user
    ready_job(http, auth, items=1)
    (item,) = lease(http, worker)
    response = report(http, worker, item)
    assert response.status_code == 200 and response.json()["status"] == "recorded"


def test_a_repeated_callback_after_the_item_left_the_queue_gets_its_first_answer(
    http, user, worker, live_server
):
    _, auth = user
    ready_job(http, auth, items=2)
    item = lease(http, worker)[0]
    first = report(http, worker, item)
    wait_projected(live_server.services, ["jobs"])  # the item's dispatch row is gone
    again = report(http, worker, item)
    assert (again.status_code, again.json()) == (first.status_code, first.json())


def test_a_new_report_of_an_item_already_reported_is_answered_already_reported(
    http, user, worker, other_worker, live_server
):
    _, auth = user
    ready_job(http, auth, items=2)
    item = lease(http, worker)[0]
    report(http, worker, item).raise_for_status()
    wait_projected(live_server.services, ["jobs"])
    late = report(http, other_worker, item, outcome="failed", key="another-key")
    assert late.status_code == 200 and late.json()["status"] == "already_reported"


def test_a_report_on_a_canceled_job_is_ignored_whoever_sends_it(
    http, user, worker, other_worker, live_server
):
    _, auth = user
    job = ready_job(http, auth, items=1)
    (item,) = lease(http, worker)
    http.post(f"/jobs/{job['job_id']}/cancel", headers=auth).raise_for_status()
    wait_projected(live_server.services, ["jobs"])
    late = report(http, other_worker, item)
    assert late.status_code == 200 and late.json()["status"] == "ignored"


# Finding 10: a client can tell, and wait, until an ended job's credits are settled.


def finish(http, auth, worker, items=2):
    job = ready_job(http, auth, items=items)
    for item in lease(http, worker):
        report(http, worker, item).raise_for_status()
    return job


@pytest.mark.parametrize("trial", range(3))
def test_a_finished_jobs_settlement_can_be_waited_for_in_one_get(http, user, worker, trial):
    _, auth = user
    job = finish(http, auth, worker, items=2)
    detail = http.get(f"/jobs/{job['job_id']}", headers=auth, params={"settled": "true"})
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert (body["status"], body["settlement"], body["consumed"]) == ("done", "committed", 2)
    me = http.get("/me", headers=auth).json()
    assert (me["credits"], me["reserved_credits"], me["active_jobs"]) == (98, 0, 0)


def test_a_running_jobs_credits_are_held(http, user, worker):
    _, auth = user
    job = ready_job(http, auth, items=2)
    item = lease(http, worker)[0]
    position = report(http, worker, item).raise_for_status().json()["position"]
    detail = http.get(
        f"/jobs/{job['job_id']}",
        headers=auth,
        params={"settled": "true", "min_position": position},
    ).json()
    assert (detail["status"], detail["settlement"]) == ("running", "held")


def test_a_canceled_jobs_credits_are_rolled_back(http, user):
    _, auth = user
    job = create_job(http, auth, items=2).raise_for_status().json()
    http.post(f"/jobs/{job['job_id']}/cancel", headers=auth).raise_for_status()
    detail = http.get(f"/jobs/{job['job_id']}", headers=auth, params={"settled": "true"}).json()
    assert (detail["status"], detail["settlement"]) == ("canceled", "rolled_back")
    assert http.get("/me", headers=auth).json()["credits"] == 100
