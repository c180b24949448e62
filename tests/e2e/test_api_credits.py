"""The credits API over HTTP: sign-up, /me, admin grants and plans, errors, idempotency."""

import time
import uuid

import jwt
import pytest

from domain.commands import usercredits as credits
from tests.conftest import TEST_SECRET


def sign_up(client):
    response = client.post("/auth/anon")
    assert response.status_code == 201
    body = response.json()
    return body["user_id"], {"Authorization": f"Bearer {body['token']}"}, body


@pytest.fixture
def admin(running):
    return {"Authorization": f"Bearer {running.tokens.issue('ann', 'admin')}"}


def test_sign_up_returns_a_token_and_me_shows_the_free_plan(client):
    user_id, auth, body = sign_up(client)
    assert set(body) >= {"token", "user_id"}
    me = client.get("/me", headers=auth)
    assert me.status_code == 200
    usage = me.json().pop("usage")
    assert me.json() | {"usage": None} == {
        "user_id": user_id,
        "plan": "free",
        "credits": 10,
        "reserved_credits": 0,
        "active_jobs": 0,
        "max_concurrent_jobs": 2,
        "rule_slots_used": 0,
        "rule_slots_limit": 2,
        "usage": None,
    }
    assert {kind: (u["used"], u["limit"]) for kind, u in usage.items()} == {
        "jobs": (0, 100),
        "assistant_turns": (0, 50),
    }


def test_the_token_is_an_hs256_jwt_for_the_user(client, running):
    user_id, _, body = sign_up(client)
    claims = jwt.decode(body["token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == user_id and claims["role"] == "user"


def test_an_admin_grant_shows_in_me_when_read_at_its_position(client, admin):
    user_id, auth, _ = sign_up(client)
    grant = client.post(
        f"/admin/users/{user_id}/credits", headers=admin, json={"amount": 25, "reason": "support"}
    )
    assert grant.status_code == 200 and grant.json()["credits"] == 35
    me = client.get("/me", headers=auth, params={"min_position": grant.json()["position"]})
    assert me.json()["credits"] == 35


def test_the_ledger_lists_grants_with_actor_and_reason(client, admin):
    user_id, _, _ = sign_up(client)
    grant = client.post(
        f"/admin/users/{user_id}/credits",
        headers=admin,
        json={"amount": 5, "reason": "welcome back"},
    )
    ledger = client.get(
        f"/admin/users/{user_id}/ledger",
        headers=admin,
        params={"min_position": grant.json()["position"]},
    ).json()
    assert [(r["kind"], r["amount"], r["reason"], r["actor"]) for r in ledger] == [
        ("grant", 5, "welcome back", "admin:ann"),
        ("grant", 10, "signup", f"user:{user_id}"),
    ]


def test_changing_plan_changes_the_limits_in_me(client, admin):
    user_id, auth, _ = sign_up(client)
    change = client.put(f"/admin/users/{user_id}/plan", headers=admin, json={"plan": "pro"})
    assert change.status_code == 200
    me = client.get("/me", headers=auth, params={"min_position": change.json()["position"]})
    assert (me.json()["plan"], me.json()["rule_slots_limit"]) == ("pro", 20)


def test_reservations_made_by_commands_show_in_me(client, running):
    user_id, auth, _ = sign_up(client)
    outcome = running.executor.execute(credits.ReserveCredits(uuid.UUID(user_id), "job-1", 4))
    me = client.get("/me", headers=auth, params={"min_position": outcome.position}).json()
    assert (me["credits"], me["reserved_credits"], me["active_jobs"]) == (6, 4, 1)


def test_an_idempotency_key_returns_the_first_response_and_grants_once(client, admin):
    user_id, auth, _ = sign_up(client)
    headers = {**admin, "Idempotency-Key": "grant-42"}
    first = client.post(
        f"/admin/users/{user_id}/credits", headers=headers, json={"amount": 5, "reason": "once"}
    )
    again = client.post(
        f"/admin/users/{user_id}/credits", headers=headers, json={"amount": 5, "reason": "once"}
    )
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    me = client.get("/me", headers=auth, params={"min_position": first.json()["position"]})
    assert me.json()["credits"] == 15


def test_an_idempotency_key_reused_for_another_body_is_a_422(client, admin):
    user_id, _, _ = sign_up(client)
    headers = {**admin, "Idempotency-Key": "k"}
    client.post(
        f"/admin/users/{user_id}/credits", headers=headers, json={"amount": 5, "reason": "a"}
    )
    other = client.post(
        f"/admin/users/{user_id}/credits", headers=headers, json={"amount": 6, "reason": "a"}
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_sign_up_with_an_idempotency_key_returns_the_same_user(client):
    first = client.post("/auth/anon", headers={"Idempotency-Key": "install-1"}).json()
    again = client.post("/auth/anon", headers={"Idempotency-Key": "install-1"}).json()
    assert again["user_id"] == first["user_id"]


def test_a_request_id_is_the_events_correlation_id(client, admin, running):
    user_id, _, _ = sign_up(client)
    response = client.post(
        f"/admin/users/{user_id}/credits",
        json={"amount": 1, "reason": "r"},
        headers={**admin, "X-Request-ID": "trace-77"},
    )
    assert response.headers["x-request-id"] == "trace-77"
    event = list(running.event_store.events.get(uuid.UUID(user_id)))[-1]
    assert event.metadata == {
        "actor": "admin:ann",
        "correlation_id": "trace-77",
        "causation_id": "request:trace-77",
    }


@pytest.mark.parametrize(
    "body, field",
    [
        ({"amount": -5, "reason": "x"}, "body.amount"),
        ({"amount": "lots", "reason": "x"}, "body.amount"),
        ({"amount": 5}, "body.reason"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, admin, body, field):
    user_id, _, _ = sign_up(client)
    response = client.post(f"/admin/users/{user_id}/credits", headers=admin, json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert field in response.json()["error"]["message"]


def test_malformed_json_is_a_400_malformed_body(client, admin):
    user_id, _, _ = sign_up(client)
    response = client.post(
        f"/admin/users/{user_id}/credits",
        content=b"{not json",
        headers={**admin, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_body"


def test_an_unknown_plan_is_a_422_naming_the_field(client, admin):
    user_id, _, _ = sign_up(client)
    response = client.put(f"/admin/users/{user_id}/plan", headers=admin, json={"plan": "gold"})
    assert response.status_code == 422 and "body.plan" in response.json()["error"]["message"]


def test_a_malformed_user_id_is_a_422(client, admin):
    response = client.post(
        "/admin/users/not-a-uuid/credits", headers=admin, json={"amount": 1, "reason": "x"}
    )
    assert response.status_code == 422 and "path.user_id" in response.json()["error"]["message"]


def test_granting_to_an_unknown_user_is_a_404(client, admin):
    response = client.post(
        f"/admin/users/{uuid.uuid4()}/credits", headers=admin, json={"amount": 1, "reason": "x"}
    )
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_no_token_is_a_401(client):
    response = client.get("/me")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


def test_an_expired_token_is_a_401(client, running):
    user_id, _, _ = sign_up(client)
    token = jwt.encode(
        {"sub": user_id, "role": "user", "exp": int(time.time()) - 10},
        TEST_SECRET,
        algorithm="HS256",
    )
    response = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]


def test_a_tampered_token_is_a_401(client):
    _, _, body = sign_up(client)
    header, payload, signature = body["token"].split(".")
    forged = jwt.encode(
        {"sub": str(uuid.uuid4()), "role": "admin", "exp": int(time.time()) + 60},
        "another-secret-which-is-also-32-bytes-long",
        algorithm="HS256",
    ).split(".")[1]
    response = client.get(
        "/admin/users/" + str(uuid.uuid4()),
        headers={"Authorization": f"Bearer {header}.{forged}.{signature}"},
    )
    assert response.status_code == 401


def test_a_user_token_on_an_admin_route_is_a_403(client):
    user_id, auth, _ = sign_up(client)
    response = client.post(
        f"/admin/users/{user_id}/credits",
        headers=auth,
        json={"amount": 1000, "reason": "free money"},
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"


def test_an_admin_token_on_a_user_route_is_a_403(client, admin):
    assert client.get("/me", headers=admin).status_code == 403


def test_a_position_not_reached_in_time_is_a_503_that_says_so(client, running, admin):
    running.settings.read_wait_seconds = 0.2
    user_id, auth, _ = sign_up(client)
    running.runner.stop()  # the read models stay where they are
    grant = client.post(
        f"/admin/users/{user_id}/credits", headers=admin, json={"amount": 5, "reason": "x"}
    )
    response = client.get("/me", headers=auth, params={"min_position": grant.json()["position"]})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "projection_behind"
    assert response.headers["retry-after"] == "1"


def test_an_unknown_route_is_a_404_error_body(client):
    response = client.get("/nowhere")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
