"""A rebuild of ``user_summary`` while clients read ``/me`` and admins grant credits over HTTP:
no request fails at the switch, and every grant shows afterwards."""

import threading

import httpx

from projections.engine.rebuild import rebuild
from projections.registry import projection_named
from tests.conftest import wait_until


def sign_up(http):
    body = http.post("/auth/anon").json()
    return body["user_id"], {"Authorization": f"Bearer {body['token']}"}


def test_requests_go_on_through_a_rebuilds_switch(live_server, http, admin):
    users = [sign_up(http) for _ in range(3)]
    stop, failures, granted, served = threading.Event(), [], {u: 0 for u, _ in users}, [0]

    def read(auth):
        with httpx.Client(base_url=live_server.url, timeout=30) as client:
            while not stop.is_set():
                response = client.get("/me", headers=auth)
                if response.status_code != 200:
                    failures.append(f"GET /me {response.status_code} {response.text}")
                served[0] += 1

    def grant(user_id):
        with httpx.Client(base_url=live_server.url, timeout=30) as client:
            while not stop.is_set():
                response = client.post(
                    f"/admin/users/{user_id}/credits",
                    headers=admin,
                    json={"amount": 1, "reason": "during a rebuild"},
                )
                if response.status_code == 200:
                    granted[user_id] += 1
                else:
                    failures.append(f"grant {response.status_code} {response.text}")

    threads = [threading.Thread(target=read, args=(auth,)) for _, auth in users]
    threads += [threading.Thread(target=grant, args=(user_id,)) for user_id, _ in users]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: served[0] > 30 and sum(granted.values()) > 10, what="traffic")
        done = rebuild(
            live_server.services.dsn,
            live_server.services.event_store,
            projection_named("user_summary"),
            batch_size=10,
        )
        after = served[0]
        wait_until(lambda: served[0] > after + 30, what="reads after the switch")
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)

    assert failures == []
    assert done.applied > 0
    for user_id, auth in users:
        wait_until(
            lambda a=auth, u=user_id: (
                http.get("/me", headers=a).json()["credits"] == 10 + granted[u]
            ),
            what="every grant in the rebuilt user_summary",
        )
