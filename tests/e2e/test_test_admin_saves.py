"""The test editor over HTTP: creating a test, and saving it with If-Match, alone, at
once with another admin, stale, malformed, or changing nothing."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from projections.engine.log import log_head
from tests.e2e.flows import bearer, sign_up
from tests.e2e.testadmin import (
    TESTS,
    create,
    problem,
    read,
    save,
    settings,  # noqa: F401  (a fixture)
)
from tests.unit.documents import document


def test_creating_a_test_answers_201_with_its_location_and_etag(http, admin):
    response = http.post(TESTS, headers=admin, json=document(title="  여행 성향 테스트 "))

    body = response.json()
    assert response.status_code == 201
    assert response.headers["Location"] == f"{TESTS}/{body['test_id']}"
    assert response.headers["ETag"] == '"1"'
    assert (body["version"], body["published"], body["deleted"]) == (1, False, False)
    read_back = read(http, admin, body["test_id"], body["position"])
    assert read_back.headers["ETag"] == '"1"'
    assert read_back.json()["document"]["title"] == "여행 성향 테스트"
    assert read_back.json()["saved_by"] == "admin:ann"


def test_only_admins_may_create_or_save_tests(http, admin):
    created = create(http, admin)
    _, user = sign_up(http)

    assert problem(http.post(TESTS, json=document()), 401)["code"] == "unauthenticated"
    assert problem(http.post(TESTS, headers=user, json=document()), 403)["code"] == "forbidden"
    assert problem(save(http, user, created["test_id"], 1), 403)["code"] == "forbidden"
    assert problem(http.get(TESTS, headers=user), 403)["code"] == "forbidden"


def test_a_save_answers_the_new_version_as_etag_and_its_position(http, admin):
    created = create(http, admin)

    response = save(http, admin, created["test_id"], 1, title="Renamed")

    assert response.status_code == 200, response.text
    assert response.headers["ETag"] == '"2"'
    assert response.json()["version"] == 2
    assert response.json()["position"] > created["position"]
    read_back = read(http, admin, created["test_id"], response.json()["position"])
    assert read_back.json()["document"]["title"] == "Renamed"


def test_a_save_without_if_match_is_428_and_records_nothing(http, admin, live_server):
    created = create(http, admin)

    response = http.put(f"{TESTS}/{created['test_id']}", headers=admin, json=document())

    assert problem(response, 428)["code"] == "precondition_required"
    assert "If-Match" in response.json()["error"]["message"]
    assert log_head(live_server.services.reads) == created["position"]


@pytest.mark.parametrize("if_match", ['"1", "2"', "1", "one", '"0"', '"1', "99999999999999999999"])
def test_an_if_match_that_names_no_one_version_is_422_naming_the_header(http, admin, if_match):
    created = create(http, admin)
    headers = {**admin, "If-Match": if_match}

    response = http.put(f"{TESTS}/{created['test_id']}", headers=headers, json=document())

    assert problem(response, 422)["fields"][0]["field"] == "header.If-Match"


def test_a_weak_if_match_never_matches_and_is_409_naming_the_current_version(http, admin):
    created = create(http, admin)
    headers = {**admin, "If-Match": 'W/"1"'}

    response = http.put(f"{TESTS}/{created['test_id']}", headers=headers, json=document(title="B"))

    error = problem(response, 409)
    assert (error["code"], error["current_version"]) == ("version_conflict", 1)


def test_if_match_star_saves_over_whatever_version_exists(http, admin):
    created = create(http, admin)
    assert save(http, admin, created["test_id"], 1, title="B").status_code == 200
    headers = {**admin, "If-Match": "*"}

    response = http.put(f"{TESTS}/{created['test_id']}", headers=headers, json=document(title="C"))

    assert response.status_code == 200, response.text
    assert response.json()["version"] == 3


def test_if_match_star_on_a_test_that_does_not_exist_is_404(http, admin):
    headers = {**admin, "If-Match": "*"}

    response = http.put(f"{TESTS}/{uuid.uuid4()}", headers=headers, json=document())

    assert problem(response, 404)["code"] == "not_found"


def test_a_stale_if_match_is_409_naming_the_current_version_who_saved_it_and_when(
    http, admin, live_server
):
    created = create(http, admin)
    bob = bearer(live_server.services.tokens.issue("bob", "admin"))
    assert save(http, bob, created["test_id"], 1, title="Bob's").status_code == 200

    response = save(http, admin, created["test_id"], 1, title="Ann's")

    error = problem(response, 409)
    assert error["code"] == "version_conflict"
    assert (error["current_version"], error["saved_by"]) == (2, "admin:bob")
    assert error["saved_at"] and error["saved_at"] in error["message"]
    assert "bob" in error["message"]


def saves_at_once(url, auth, test_id, version, titles):
    """Each title saved against ``version`` from its own thread and connection, all at once."""
    start = threading.Barrier(len(titles))

    def put(title: str) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=30) as own:
            start.wait(10)
            return save(own, auth, test_id, version, title=title)

    with ThreadPoolExecutor(len(titles)) as pool:
        return list(pool.map(put, titles))


def test_two_concurrent_saves_with_the_same_if_match_one_wins_and_the_other_is_told(
    live_server, http, admin
):
    test_id = create(http, admin)["test_id"]
    version = 1
    for round_ in range(5):
        answers = saves_at_once(
            live_server.url, admin, test_id, version, [f"A{round_}", f"B{round_}"]
        )

        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        won = next(a for a in answers if a.status_code == 200).json()
        lost = next(a for a in answers if a.status_code == 409).json()["error"]
        assert won["version"] == lost["current_version"] == version + 1
        version = won["version"]
    final = read(http, admin, test_id, won["position"]).json()
    assert final["version"] == 6
    assert final["document"]["title"] in ("A4", "B4")


def test_a_save_that_changes_nothing_records_nothing(http, admin, live_server):
    created = create(http, admin)

    response = save(http, admin, created["test_id"], 1)

    assert response.status_code == 200, response.text
    assert (response.json()["version"], response.json()["position"]) == (1, None)
    assert response.headers["ETag"] == '"1"'
    assert log_head(live_server.services.reads) == created["position"]
