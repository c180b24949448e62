"""Rules over HTTP: create, read, update, delete, rule slots per plan, ownership, validation."""

import uuid

import pytest

from tests.e2e.flows import bearer, sign_up, wait_projected

RULE = {
    "name": "Nightly portraits",
    "preset": "portrait",
    "params": {"style": "oil", "strength": 0.7, "steps": 30, "keep_faces": True},
}


@pytest.fixture
def user(http):
    return sign_up(http)  # free plan: 2 rule slots


def create_rule(http, auth, name="Nightly portraits", headers=None, **fields):
    return http.post(
        "/rules", headers={**auth, **(headers or {})}, json={**RULE, "name": name, **fields}
    )


def me(http, auth, position=None):
    params = {"min_position": position} if position else {}
    return http.get("/me", headers=auth, params=params).raise_for_status().json()


def listed(http, auth, position=None):
    params = {"min_position": position} if position else {}
    return http.get("/rules", headers=auth, params=params).raise_for_status().json()


def test_creating_a_rule_answers_201_with_the_rule_and_its_position(http, user):
    _, auth = user
    response = create_rule(http, auth)
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["preset"], body["params"]) == (
        RULE["name"],
        RULE["preset"],
        RULE["params"],
    )
    assert uuid.UUID(body["rule_id"]) and body["version"] == 1
    assert isinstance(body["position"], int) and body["position"] > 0


def test_created_rules_are_listed_oldest_first_when_read_at_the_last_position(http, user):
    _, auth = user
    first = create_rule(http, auth, "first").json()
    second = create_rule(http, auth, "second").json()
    rules = listed(http, auth, second["position"])
    assert [(r["rule_id"], r["name"]) for r in rules] == [
        (first["rule_id"], "first"),
        (second["rule_id"], "second"),
    ]
    assert rules[0]["params"] == RULE["params"]


def test_a_rule_is_read_by_its_id(http, user):
    _, auth = user
    created = create_rule(http, auth).json()
    response = http.get(
        f"/rules/{created['rule_id']}", headers=auth, params={"min_position": created["position"]}
    )
    assert response.status_code == 200
    assert response.json() == {k: v for k, v in created.items() if k != "position"}


def test_updating_a_rule_replaces_its_name_preset_and_params(http, user):
    _, auth = user
    created = create_rule(http, auth).json()
    change = {"name": "Upscale everything", "preset": "upscale-4x", "params": {"factor": 4}}
    response = http.put(f"/rules/{created['rule_id']}", headers=auth, json=change)
    assert response.status_code == 200 and response.json()["version"] == 2
    read = http.get(
        f"/rules/{created['rule_id']}",
        headers=auth,
        params={"min_position": response.json()["position"]},
    ).json()
    assert {k: read[k] for k in change} == change and read["version"] == 2


def test_an_update_to_the_same_values_records_nothing(http, user):
    _, auth = user
    created = create_rule(http, auth).json()
    response = http.put(f"/rules/{created['rule_id']}", headers=auth, json=RULE)
    assert response.status_code == 200
    assert (response.json()["version"], response.json()["position"]) == (1, None)


def test_a_deleted_rule_is_not_found(http, user):
    _, auth = user
    created = create_rule(http, auth).json()
    deleted = http.delete(f"/rules/{created['rule_id']}", headers=auth)
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    position = deleted.json()["position"]
    read = http.get(f"/rules/{created['rule_id']}", headers=auth, params={"min_position": position})
    assert read.status_code == 404
    assert listed(http, auth, position) == []


def test_deleting_a_rule_frees_its_slot(http, user):
    _, auth = user
    kept = create_rule(http, auth, "kept").json()
    gone = create_rule(http, auth, "gone").json()
    assert me(http, auth, gone["position"])["rule_slots_used"] == 2
    deleted = http.delete(f"/rules/{gone['rule_id']}", headers=auth).json()
    assert deleted["rule_slots_used"] == 1
    assert me(http, auth, deleted["position"])["rule_slots_used"] == 1
    assert [r["rule_id"] for r in listed(http, auth, deleted["position"])] == [kept["rule_id"]]


def test_deleting_a_rule_twice_changes_nothing(http, user):
    _, auth = user
    created = create_rule(http, auth).json()
    http.delete(f"/rules/{created['rule_id']}", headers=auth).raise_for_status()
    again = http.delete(f"/rules/{created['rule_id']}", headers=auth)
    assert again.status_code == 200
    assert (again.json()["rule_slots_used"], again.json()["position"]) == (0, None)


def test_updating_a_deleted_rule_is_a_404(http, user):
    _, auth = user
    created = create_rule(http, auth).json()
    http.delete(f"/rules/{created['rule_id']}", headers=auth).raise_for_status()
    response = http.put(f"/rules/{created['rule_id']}", headers=auth, json=RULE)
    assert response.status_code == 404


def test_a_free_users_third_rule_is_a_409_and_writes_nothing(http, user, live_server):
    _, auth = user
    create_rule(http, auth, "one").raise_for_status()
    create_rule(http, auth, "two").raise_for_status()
    response = create_rule(http, auth, "three")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "rule_slot_limit"
    wait_projected(live_server.services, ["rules", "user_summary"])
    assert [r["name"] for r in listed(http, auth)] == ["one", "two"]
    assert me(http, auth)["rule_slots_used"] == 2


def test_a_third_rule_is_accepted_after_a_change_to_the_pro_plan(http, user, admin):
    user_id, auth = user
    create_rule(http, auth, "one").raise_for_status()
    create_rule(http, auth, "two").raise_for_status()
    http.put(f"/admin/users/{user_id}/plan", headers=admin, json={"plan": "pro"}).raise_for_status()
    response = create_rule(http, auth, "three")
    assert response.status_code == 201
    assert me(http, auth, response.json()["position"])["rule_slots_used"] == 3


def test_another_users_rule_is_not_found(http, user):
    _, auth = user
    created = create_rule(http, auth).json()
    _, stranger = sign_up(http)
    path = f"/rules/{created['rule_id']}"
    responses = [
        http.get(path, headers=stranger),
        http.put(path, headers=stranger, json=RULE),
        http.delete(path, headers=stranger),
    ]
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert http.get(path, headers=auth).json()["name"] == RULE["name"]


def test_an_unknown_rule_id_is_a_404(http, user):
    _, auth = user
    path = f"/rules/{uuid.uuid4()}"
    responses = [
        http.get(path, headers=auth),
        http.put(path, headers=auth, json=RULE),
        http.delete(path, headers=auth),
    ]
    assert [r.status_code for r in responses] == [404, 404, 404]


@pytest.mark.parametrize("method", ["post", "put"])
def test_an_unknown_preset_is_a_422_naming_it(http, user, method):
    _, auth = user
    path = "/rules" if method == "post" else f"/rules/{create_rule(http, auth).json()['rule_id']}"
    response = http.request(method, path, headers=auth, json={**RULE, "preset": "no-such-preset"})
    assert response.status_code == 422
    assert "no-such-preset" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "fields, named",
    [
        ({"params": {"crop": {"x": 1}}}, "body.params.crop"),
        ({"params": {f"p{n}": n for n in range(51)}}, "body.params"),
        ({"params": {"tags": ["a", "b"]}}, "body.params.tags"),
        ({"name": "n" * 101}, "body.name"),
        ({"name": ""}, "body.name"),
    ],
)
def test_bad_rule_fields_are_a_422_naming_the_field(http, user, live_server, fields, named):
    _, auth = user
    response = http.post("/rules", headers=auth, json={**RULE, **fields})
    assert response.status_code == 422
    assert named in response.json()["error"]["message"]
    wait_projected(live_server.services, ["rules"])
    assert listed(http, auth) == []


@pytest.mark.parametrize(
    "fields, named",
    [
        ({"params": {"x" * 101: 1}}, "param names"),
        ({"params": {"prompt": "p" * 1001}}, "'prompt'"),
        ({"name": "   "}, "name"),
    ],
)
def test_params_the_domain_refuses_are_a_422_naming_the_problem(http, user, fields, named):
    _, auth = user
    response = http.post("/rules", headers=auth, json={**RULE, **fields})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_command"
    assert named in response.json()["error"]["message"]


def test_a_worker_token_is_forbidden_on_rules(http, user, live_server):
    _, auth = user
    rule_id = create_rule(http, auth).json()["rule_id"]
    worker = bearer(live_server.services.tokens.issue("gpu-1", "worker"))
    responses = [
        http.get("/rules", headers=worker),
        http.post("/rules", headers=worker, json=RULE),
        http.get(f"/rules/{rule_id}", headers=worker),
        http.put(f"/rules/{rule_id}", headers=worker, json=RULE),
        http.delete(f"/rules/{rule_id}", headers=worker),
    ]
    assert [r.status_code for r in responses] == [403] * 5
    assert {r.json()["error"]["code"] for r in responses} == {"forbidden"}


def test_a_repeated_create_with_an_idempotency_key_returns_the_same_rule_in_one_slot(http, user):
    _, auth = user
    first = create_rule(http, auth, headers={"Idempotency-Key": "rule-1"})
    again = create_rule(http, auth, headers={"Idempotency-Key": "rule-1"})
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    position = first.json()["position"]
    assert me(http, auth, position)["rule_slots_used"] == 1
    assert [r["rule_id"] for r in listed(http, auth, position)] == [first.json()["rule_id"]]
