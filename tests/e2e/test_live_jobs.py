"""A job followed live (`GET /jobs/{id}/events`): its events as the log has them, then the end."""

import threading

import httpx

from tests.e2e.flows import fund, lease, ready_job, report, sign_up
from tests.e2e.sse import Message, events


def _follow(http: httpx.Client, path: str, auth: dict, into: list[Message], **params) -> None:
    with http.stream("GET", path, headers=auth, params=params) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        into.extend(events(response))


def _log(http: httpx.Client, admin: dict, **filters) -> list[dict]:
    page = http.get("/api/admin/events", headers=admin, params={"limit": 500, **filters})
    return sorted(page.raise_for_status().json()["events"], key=lambda e: e["position"])


def test_a_job_stream_sends_the_jobs_events_and_settlement_then_ends(http, admin, worker):
    user_id, auth = sign_up(http)
    fund(http, admin, user_id, 100)
    job = ready_job(http, auth, items=2)
    received: list[Message] = []
    follower = threading.Thread(
        target=_follow, args=(http, f"/jobs/{job['job_id']}/events", auth, received)
    )
    follower.start()

    for item in lease(http, worker):
        report(http, worker, item).raise_for_status()
    follower.join(timeout=60)

    assert not follower.is_alive(), "the stream did not end after the settlement"
    job_events = _log(http, admin, aggregate_id=job["job_id"])
    settlement = [
        e
        for e in _log(http, admin, aggregate_id=user_id)
        if e["event_type"] == "UserCredits.Committed" and e["data"]["job_id"] == job["job_id"]
    ]
    expected = job_events + settlement
    assert [m.position for m in received] == [e["position"] for e in expected]
    assert [m.event for m in received] == [e["event_type"] for e in expected]
    assert received[-1].event == "UserCredits.Committed"
    assert received[-1].data["data"]["job_id"] == job["job_id"]


def test_a_job_stream_resumes_after_the_last_event_id(http, admin, worker):
    user_id, auth = sign_up(http)
    fund(http, admin, user_id, 100)
    job = ready_job(http, auth, items=1)
    path = f"/jobs/{job['job_id']}/events"
    with http.stream("GET", path, headers=auth) as response:
        first = next(events(response))  # Job.Created
    (item,) = lease(http, worker)
    report(http, worker, item, "failed").raise_for_status()

    rest: list[Message] = []
    _follow(http, path, {**auth, "Last-Event-ID": first.id}, rest)

    whole: list[Message] = []
    _follow(http, path, auth, whole)
    assert [m.position for m in [first, *rest]] == [m.position for m in whole]
    assert whole[-1].event in ("UserCredits.Committed", "UserCredits.RolledBack")


def test_another_users_job_stream_is_not_found(http, admin):
    user_id, auth = sign_up(http)
    fund(http, admin, user_id, 100)
    job = ready_job(http, auth, items=1)
    _, stranger = sign_up(http)

    response = http.get(f"/jobs/{job['job_id']}/events", headers=stranger)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_job_stream_needs_a_token(http):
    response = http.get("/jobs/00000000-0000-0000-0000-000000000001/events")

    assert response.status_code == 401


def test_a_last_event_id_that_is_not_a_position_is_refused_before_the_stream_starts(http, admin):
    user_id, auth = sign_up(http)
    fund(http, admin, user_id, 100)
    path = f"/jobs/{ready_job(http, auth, items=1)['job_id']}/events"

    # b"\xb2" reads as "²" (latin-1), which Python calls a digit and int() refuses.
    for bad in [b"abc", b"-1", b"1.5", b"\xb2", b"12345678901234567890"]:
        answer = http.get(path, headers={**auth, "Last-Event-ID": bad})
        assert answer.status_code == 422, (bad, answer.text)
        assert "last-event-id" in answer.json()["error"]["message"]
