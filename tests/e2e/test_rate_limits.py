"""Rate limits per route group and caller: 429 with the IETF draft's headers, nothing recorded.

Sign-ups are counted per client address (a forged X-Forwarded-For from an untrusted peer changes
nothing; a trusted proxy's names the client); changes per user. With Redis the counters are
shared by every process; when it cannot be reached, reads go through and changes get 503.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from api.app import create_app
from api.bootstrap import services
from api.ratelimit import GROUPS
from api.settings import Settings
from tests.conftest import wait_until
from tests.e2e.twoprocesses import spread_clients, two_api_processes

REDIS_URL = os.environ.get("CHRONICLE_REDIS_URL", "redis://127.0.0.1:6379/0")
Serve = Callable[..., Any]


def _redis_unreachable() -> str | None:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as probe:
            probe.ping()
    except redis.RedisError as exc:
        return f"no Redis answers at {REDIS_URL}: {exc}"
    return None


@pytest.fixture
def serve(clean_dsn: str, settings: Settings) -> Iterator[Serve]:
    """``serve(**settings)``: a client of the API on services built with those settings."""

    @contextmanager
    def serving(peer: str = "127.0.0.1", **overrides: Any) -> Iterator[TestClient]:
        configured = settings.model_copy(update=overrides)
        with services(configured, clean_dsn, run_projections=True) as built:
            app = create_app(built)
            with TestClient(app, raise_server_exceptions=False, client=(peer, 50000)) as client:
                yield client

    yield serving


def signups(client: TestClient, count: int, **headers: str) -> list[Any]:
    return [client.post("/auth/anon", headers=headers) for _ in range(count)]


def test_signups_past_the_limit_are_refused_with_429_and_record_nothing(serve: Serve) -> None:
    with serve(rate_limit_signup="3/hour") as client:
        answers = signups(client, 5)

        assert [a.status_code for a in answers] == [201, 201, 201, 429, 429]
        refused = answers[3]
        assert refused.json()["error"]["code"] == "rate_limited"
        assert "signup" in refused.json()["error"]["message"]
        assert 1 <= int(refused.headers["retry-after"]) <= 3600
        assert refused.headers["ratelimit-limit"] == "3"
        assert refused.headers["ratelimit-remaining"] == "0"
        assert answers[0].headers["ratelimit-remaining"] == "2"
        head = client.get("/metrics").text
        assert 'chronicle_rate_limited_total{group="signup"} 2.0' in head
        assert len({a.json()["user_id"] for a in answers[:3]}) == 3
        assert max(a.json()["position"] for a in answers[:3]) == 3  # nothing after the third


def test_a_forged_forwarded_for_from_an_untrusted_peer_changes_nothing(serve: Serve) -> None:
    with serve(rate_limit_signup="2/hour") as client:
        answers = [
            client.post("/auth/anon", headers={"X-Forwarded-For": f"203.0.113.{n}"})
            for n in range(3)
        ]

    assert [a.status_code for a in answers] == [201, 201, 429]


def test_a_forged_forwarded_for_over_a_real_socket_from_loopback_changes_nothing(
    clean_dsn: str, tmp_path: Any
) -> None:
    # uvicorn itself believes X-Forwarded-For from 127.0.0.1 unless told not to: over a real
    # socket each forged address would be a new client with a fresh allowance.
    env = {"CHRONICLE_RATE_LIMIT_SIGNUP": "1/hour"}  # per process: counters in memory
    with two_api_processes(clean_dsn, tmp_path, env) as served:
        clients = spread_clients(served, 2)
        try:
            codes = [
                clients[n % len(clients)]
                .post("/auth/anon", headers={"X-Forwarded-For": f"203.0.113.{n}"})
                .status_code
                for n in range(6)
            ]
        finally:
            for client in clients:
                client.close()

    assert sorted(codes) == [201, 201, 429, 429, 429, 429]  # one sign-up per process


def test_a_trusted_proxys_forwarded_for_names_the_client(serve: Serve) -> None:
    proxy = {"peer": "10.0.0.2", "trusted_proxies": ["10.0.0.0/8"]}
    with serve(rate_limit_signup="1/hour", **proxy) as client:
        first = client.post("/auth/anon", headers={"X-Forwarded-For": "198.51.100.7"})
        other = client.post("/auth/anon", headers={"X-Forwarded-For": "198.51.100.8"})
        # A client's own forged entry comes first: the proxy appends the address it saw.
        forged = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
        again = client.post("/auth/anon", headers=forged)

    assert [first.status_code, other.status_code, again.status_code] == [201, 201, 429]


def test_a_trusted_proxys_forwarded_header_names_the_client(serve: Serve) -> None:
    proxy = {"peer": "10.0.0.2", "trusted_proxies": ["10.0.0.0/8"]}
    with serve(rate_limit_signup="1/hour", **proxy) as client:
        first = client.post("/auth/anon", headers={"Forwarded": 'for="[2001:db8::7]:4711"'})
        other = client.post("/auth/anon", headers={"Forwarded": "for=198.51.100.8:80;proto=https"})
        # Forwarded wins over X-Forwarded-For; a client's own entry comes first, the proxy's last.
        again = client.post(
            "/auth/anon",
            headers={
                "Forwarded": "for=203.0.113.9, for=2001:db8::7",
                "X-Forwarded-For": "198.51.100.99",
            },
        )

    assert [first.status_code, other.status_code, again.status_code] == [201, 201, 429]


def test_a_forwarded_header_from_an_untrusted_peer_changes_nothing(serve: Serve) -> None:
    with serve(rate_limit_signup="1/hour") as client:
        codes = [
            client.post("/auth/anon", headers={"Forwarded": f"for=203.0.113.{n}"}).status_code
            for n in range(2)
        ]

    assert codes == [201, 429]


def test_changes_are_counted_per_user(serve: Serve) -> None:
    with serve(rate_limit_commands="2/hour") as client:
        ann, bob = (client.post("/auth/anon").json()["token"] for _ in range(2))
        rule = {"name": "night", "preset": "portrait", "params": {}}

        def create(token: str) -> int:
            return client.post("/rules", json=rule, headers={"Authorization": f"Bearer {token}"})

        by_ann = [create(ann).status_code for _ in range(3)]
        by_bob = create(bob).status_code

    assert by_ann == [201, 201, 429] and by_bob == 201


def test_sockets_opened_past_the_reads_limit_are_closed_with_4429(serve: Serve) -> None:
    from starlette.websockets import WebSocketDisconnect

    with serve(rate_limit_reads="2/hour") as client:
        token = client.post("/auth/anon").json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        room = client.post("/chat/rooms", json={"name": "busy"}, headers=auth).json()
        url = f"/chat/rooms/{room['room_id']}?token={token}"

        for _ in range(2):
            with client.websocket_connect(url) as socket:
                assert socket.receive_json()["type"] == "history"
        with client.websocket_connect(url) as socket, pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_json()
        metrics = client.get("/metrics").text

    assert closed.value.code == 4429
    assert "too many reads requests; retry in" in closed.value.reason
    assert 'chronicle_rate_limited_total{group="reads"} 1.0' in metrics


def test_a_limit_resets_after_its_window(serve: Serve) -> None:
    with serve(rate_limit_signup="1/second") as client:
        # A sliding-window counter weighs the previous window: a second sign-up
        # just past a window boundary may pass, a third within it cannot.
        statuses = [a.status_code for a in signups(client, 3)]
        assert statuses[0] == 201 and 429 in statuses, statuses

        # The next window, whenever the clock gets there: polled, bounded.
        wait_until(lambda: client.post("/auth/anon").status_code == 201, timeout=5)


def test_an_empty_limit_turns_its_group_off(serve: Serve) -> None:
    with serve(rate_limit_signup="") as client:
        answers = signups(client, 4)

    assert {a.status_code for a in answers} == {201}
    assert "ratelimit-limit" not in answers[0].headers


def test_with_redis_unreachable_reads_go_through_and_changes_get_503(serve: Serve) -> None:
    with serve(redis_url="redis://127.0.0.1:1/0", rate_limit_signup="5/minute") as client:
        read = client.get("/presets")
        change = client.post("/auth/anon")
        metrics = client.get("/metrics").text

    assert read.status_code == 200
    assert change.status_code == 503 and change.headers["retry-after"] == "1"
    assert change.json()["error"]["code"] == "unavailable"
    assert "chronicle_rate_limit_store_failures_total 2.0" in metrics


def test_limits_hold_across_two_processes_with_redis(clean_dsn: str, tmp_path: Any) -> None:
    reason = _redis_unreachable()
    if reason:
        pytest.skip(reason)
    limits = {f"CHRONICLE_RATE_LIMIT_{g.upper()}": "100000/minute" for g in GROUPS}
    env = {
        **limits,
        "CHRONICLE_RATE_LIMIT_SIGNUP": "5/hour",
        "CHRONICLE_REDIS_URL": REDIS_URL,
        "CHRONICLE_REDIS_PREFIX": f"chronicle-test-{uuid.uuid4().hex}:",
    }
    with two_api_processes(clean_dsn, tmp_path, env) as served:
        clients = spread_clients(served, 2)
        try:
            codes = [clients[n % len(clients)].post("/auth/anon").status_code for n in range(8)]
        finally:
            for client in clients:
                client.close()

    assert sorted(codes) == [201] * 5 + [429] * 3
