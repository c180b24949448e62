"""Balances are bounded in the domain, and every read model holds what the domain allows."""

import uuid

import pytest

from domain.commands.usercredits import OpenAccount
from domain.usercredits import MAX_CREDITS, MAX_GRANT


@pytest.fixture
def admin(running):
    return {"Authorization": f"Bearer {running.tokens.issue('ann', 'admin')}"}


def sign_up(client):
    body = client.post("/auth/anon").raise_for_status().json()
    return body["user_id"], {"Authorization": f"Bearer {body['token']}"}


def grant(client, admin, user_id, amount):
    body = {"amount": amount, "reason": "big spender"}
    return client.post(f"/admin/users/{user_id}/credits", headers=admin, json=body)


def test_three_grants_of_a_billion_leave_me_answering_for_everyone(client, admin):
    rich, rich_auth = sign_up(client)
    grants = [grant(client, admin, rich, 1_000_000_000) for _ in range(3)]
    assert [g.status_code for g in grants] == [200, 200, 200]

    _, newcomer = sign_up(client)
    me = client.get("/me", headers=newcomer)

    assert me.status_code == 200 and me.json()["credits"] == 10
    position = {"min_position": grants[-1].json()["position"]}
    assert client.get("/me", headers=rich_auth, params=position).json()["credits"] == 3_000_000_010
    ledger = client.get(f"/admin/users/{rich}/ledger", headers=admin, params=position).json()
    assert [row["amount"] for row in ledger[:3]] == [1_000_000_000] * 3


def test_a_grant_larger_than_one_grant_may_be_is_a_422(client, admin):
    user_id, _ = sign_up(client)

    response = grant(client, admin, user_id, MAX_GRANT + 1)

    assert response.status_code == 422 and "body.amount" in response.json()["error"]["message"]


def test_a_grant_past_the_most_an_account_holds_is_a_422_naming_the_limit(client, admin, running):
    user_id = uuid.uuid4()
    opened = running.executor.execute(OpenAccount(user_id, "free", MAX_CREDITS - 1))
    auth = {"Authorization": f"Bearer {running.tokens.issue(str(user_id), 'user')}"}

    refused = grant(client, admin, str(user_id), 2)
    accepted = grant(client, admin, str(user_id), 1)

    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "invalid_command"
    assert f"{MAX_CREDITS:,}" in refused.json()["error"]["message"]
    assert accepted.status_code == 200 and accepted.json()["credits"] == MAX_CREDITS
    position = {"min_position": max(opened.position, accepted.json()["position"])}
    assert client.get("/me", headers=auth, params=position).json()["credits"] == MAX_CREDITS
