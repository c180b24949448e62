"""Hostile input is refused at the edge with a 4xx naming the field, and never recorded.

PostgreSQL text cannot hold U+0000: a rule, grant or callback carrying one used to be
accepted, and the read model it reached then failed on it for everyone, forever.
"""

import json
import uuid

import httpx
import pytest

from tests.e2e.flows import sign_up

NUL = "a\u0000b"


def assert_refused(response: httpx.Response, field: str, status: int = 422) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["message"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": NUL, "preset": "portrait"}, "body.name"),
        ({"name": "ok", "preset": "portrait", "params": {"k": NUL}}, "body.params.k"),
        ({"name": "ok", "preset": "portrait", "params": {NUL: 1}}, "body.params.a\\x00b"),
    ],
)
def test_a_rule_with_u0000_is_refused_and_the_rules_read_model_goes_on(http, body, field):
    _, auth = sign_up(http)

    refused = http.post("/rules", headers=auth, json=body)
    fine = http.post("/rules", headers=auth, json={"name": "fine", "preset": "portrait"})
    listed = http.get("/rules", headers=auth, params={"min_position": fine.json()["position"]})

    assert_refused(refused, field)
    assert [r["name"] for r in listed.raise_for_status().json()] == ["fine"]


def test_a_grant_reason_with_u0000_is_refused(http, admin):
    user_id, _ = sign_up(http)

    response = http.post(
        f"/admin/users/{user_id}/credits", headers=admin, json={"amount": 5, "reason": NUL}
    )

    assert_refused(response, "body.reason")


@pytest.mark.parametrize("field", ["error", "result_key", "idempotency_key"])
def test_a_callback_with_u0000_is_refused(http, worker, field):
    body = {"item_index": 0, "outcome": "failed", "idempotency_key": "k", field: NUL}

    response = http.post(f"/jobs/{uuid.uuid4()}/callback", headers=worker, json=body)

    assert_refused(response, f"body.{field}")


def test_a_u0000_in_a_query_parameter_is_refused(http):
    _, auth = sign_up(http)

    response = http.get("/jobs", headers=auth, params={"cursor": NUL})

    assert_refused(response, "query.cursor")


def test_an_idempotency_key_with_u0000_is_refused(client):
    # Through the ASGI client: an HTTP client library would not send such a header at all.
    auth = {"Authorization": f"Bearer {client.post('/auth/anon').json()['token']}"}

    response = client.post(
        "/rules",
        headers={**auth, "Idempotency-Key": NUL},
        json={"name": "x", "preset": "portrait"},
    )

    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["error"]["message"]


@pytest.mark.parametrize("value", [True, "1", 1.0])
def test_a_count_must_be_a_json_integer(http, value):
    _, auth = sign_up(http)

    response = http.post("/jobs", headers=auth, json={"preset": "portrait", "item_count": value})

    assert_refused(response, "body.item_count")


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded"])
def test_json_sent_as_another_type_is_a_415_naming_it(http, media):
    _, auth = sign_up(http)
    body = json.dumps({"preset": "portrait", "item_count": 1})

    refused = http.post("/jobs", headers={**auth, "Content-Type": media}, content=body)
    taken = http.post(
        "/jobs", headers={**auth, "Content-Type": "application/json; charset=utf-8"}, content=body
    )

    assert refused.status_code == 415, refused.text
    assert refused.json()["error"]["code"] == "unsupported_media_type"
    assert media in refused.json()["error"]["message"]
    assert taken.status_code == 201, taken.text


def test_a_ledger_cursor_past_bigint_is_a_422_not_a_500(http, admin):
    user_id, _ = sign_up(http)

    response = http.get(f"/admin/users/{user_id}/ledger", headers=admin, params={"before": 2**63})

    assert_refused(response, "query.before")


@pytest.mark.parametrize("path", ["/api/admin/events", "/api/admin/tests"])
@pytest.mark.parametrize("cursor", ["²", "١٢", "0", str(2**63)])
def test_a_cursor_not_of_ascii_digits_in_range_is_a_422_never_a_500(http, admin, path, cursor):
    response = http.get(path, headers=admin, params={"cursor": cursor})

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "cursor"


def test_a_body_past_the_limit_is_a_413_even_streamed_without_a_length(http, admin, live_server):
    user_id, _ = sign_up(http)
    limit = live_server.services.settings.request_max_bytes

    def body():
        yield b'{"amount": 5, "reason": "'
        for _ in range(limit // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    response = http.post(
        f"/admin/users/{user_id}/credits",
        headers={**admin, "Content-Type": "application/json"},
        content=body(),
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_tampered_token_is_refused_without_the_librarys_reason(http):
    _, auth = sign_up(http)
    auth["Authorization"] = auth["Authorization"][:-4] + "AAAA"

    response = http.get("/me", headers=auth)

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "unauthenticated",
        "message": "the token is invalid",
    }
