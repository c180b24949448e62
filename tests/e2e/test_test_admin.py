"""The test editor over HTTP: create, save with If-Match, validation, limits, publish, delete."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from projections.queries import log_head
from tests.e2e.flows import bearer, sign_up
from tests.unit.documents import document

TESTS = "/api/admin/tests"
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"
MAX_TITLE = 40
MAX_DOCUMENT_BYTES = 8 * 1024


@pytest.fixture
def settings(settings):
    settings.test_max_title = MAX_TITLE
    settings.test_max_document_bytes = MAX_DOCUMENT_BYTES
    return settings


def create(http, auth, **fields):
    response = http.post(TESTS, headers=auth, json=document(**fields))
    assert response.status_code == 201, response.text
    return response.json()


def save(http, auth, test_id, version, **fields):
    headers = {**auth, "If-Match": f'"{version}"'}
    return http.put(f"{TESTS}/{test_id}", headers=headers, json=document(**fields))


def read(http, auth, test_id, position):
    response = http.get(f"{TESTS}/{test_id}", headers=auth, params={"min_position": position})
    assert response.status_code == 200, response.text
    return response


def problem(response, status):
    assert response.status_code == status, response.text
    return response.json()["error"]


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


@pytest.mark.parametrize("if_match", ["*", '"1", "2"', "one", '"0"', '"1', "99999999999999999999"])
def test_an_if_match_that_names_no_one_version_is_422_naming_the_header(http, admin, if_match):
    created = create(http, admin)
    headers = {**admin, "If-Match": if_match}

    response = http.put(f"{TESTS}/{created['test_id']}", headers=headers, json=document())

    assert problem(response, 422)["fields"][0]["field"] == "header.If-Match"


@pytest.mark.parametrize("if_match", ['W/"1"', "1"])
def test_a_weak_or_bare_if_match_names_the_version_too(http, admin, if_match):
    created = create(http, admin)
    headers = {**admin, "If-Match": if_match}

    response = http.put(f"{TESTS}/{created['test_id']}", headers=headers, json=document(title="B"))

    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2


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


def _without_choices(doc):
    doc["questions"][0]["choices"] = []


def _unknown_axis(doc):
    doc["questions"][1]["choices"][0]["axis"] = "EX"


def _pole_of_another_axis(doc):
    doc["questions"][0]["choices"][0]["pole"] = "S"  # question 0 is on the EI axis


def _unknown_pole(doc):
    doc["questions"][0]["choices"][1]["pole"] = "X"


def _unknown_type(doc):
    doc["results"]["XXXX"] = {"title": "?"}


def _missing_result(doc):
    del doc["results"]["INFP"]


def _nul_in_title(doc):
    doc["title"] = "a\x00b"


def _nul_in_a_result(doc):
    doc["results"]["ENFP"]["description"] = "\x00"


def _unknown_field(doc):
    doc["questions"][2]["score"] = 3


@pytest.mark.parametrize(
    ("spoil", "field"),
    [
        (_without_choices, "questions.0.choices"),
        (_unknown_axis, "questions.1.choices.0.axis"),
        (_pole_of_another_axis, "questions[0].choices[0].pole"),
        (_unknown_pole, "questions.0.choices.1.pole"),
        (_unknown_type, "results.XXXX"),
        (_missing_result, "results.INFP"),
        (_nul_in_title, "body.title"),
        (_nul_in_a_result, "body.results.ENFP.description"),
        (_unknown_field, "questions.2.score"),
    ],
)
def test_an_invalid_document_is_422_naming_the_field(http, admin, live_server, spoil, field):
    created = create(http, admin)
    doc = document()
    spoil(doc)
    headers = {**admin, "If-Match": '"1"'}

    on_create = http.post(TESTS, headers=admin, json=doc)
    on_save = http.put(f"{TESTS}/{created['test_id']}", headers=headers, json=doc)

    for response in (on_create, on_save):
        assert field in problem(response, 422)["message"]
    assert log_head(live_server.services.reads) == created["position"]


def test_a_title_over_the_configured_limit_is_422_naming_the_title(http, admin):
    response = http.post(TESTS, headers=admin, json=document(title="x" * (MAX_TITLE + 1)))

    error = problem(response, 422)
    assert error["field"] == "title" and str(MAX_TITLE) in error["message"]


def test_a_document_over_the_configured_size_is_413(http, admin):
    created = create(http, admin)
    large = "x" * (MAX_DOCUMENT_BYTES + 1)

    on_create = http.post(TESTS, headers=admin, json=document(description=large))
    on_save = save(http, admin, created["test_id"], 1, description=large)

    for response in (on_create, on_save):
        assert problem(response, 413)["code"] == "payload_too_large"
        assert f"{MAX_DOCUMENT_BYTES:,}" in response.json()["error"]["message"]


def test_publish_and_unpublish_change_the_flag_once(http, admin):
    created = create(http, admin)
    test = f"{TESTS}/{created['test_id']}"

    published = http.post(f"{test}/publish", headers=admin)
    again = http.post(f"{test}/publish", headers=admin)
    unpublished = http.post(f"{test}/unpublish", headers={**admin, "If-Match": '"2"'})

    assert (published.json()["published"], published.json()["version"]) == (True, 2)
    assert published.headers["ETag"] == '"2"'
    assert (again.json()["version"], again.json()["position"]) == (2, None)
    assert (unpublished.json()["published"], unpublished.json()["version"]) == (False, 3)
    assert (
        read(http, admin, created["test_id"], unpublished.json()["position"]).json()["published"]
        is False
    )


def test_publishing_against_a_stale_if_match_is_409(http, admin):
    created = create(http, admin)
    save(http, admin, created["test_id"], 1, title="Newer").raise_for_status()

    response = http.post(
        f"{TESTS}/{created['test_id']}/publish", headers={**admin, "If-Match": '"1"'}
    )

    assert problem(response, 409)["current_version"] == 2


def test_a_deleted_test_is_404_to_every_admin_route(http, admin):
    created = create(http, admin)
    test = f"{TESTS}/{created['test_id']}"
    deleted = http.delete(test, headers=admin)
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True

    after = [
        http.get(test, headers=admin, params={"min_position": deleted.json()["position"]}),
        save(http, admin, created["test_id"], 2),
        save(http, admin, created["test_id"], 1),  # stale, and deleted: deleted wins
        http.post(f"{test}/publish", headers=admin),
        http.post(f"{test}/unpublish", headers=admin),
        http.delete(test, headers=admin),
        http.get(f"{test}/stats", headers=admin),
        http.post(f"{test}/images", headers=admin, files={"file": ("a.png", PNG, "image/png")}),
        http.put(f"{test}/results/INTJ/image", headers=admin, content=PNG),
    ]

    assert [r.status_code for r in after] == [404] * len(after), [r.text for r in after]


def test_the_admin_list_has_drafts_and_published_tests_but_not_deleted_ones(http, admin):
    draft = create(http, admin, title="Draft")
    live = create(http, admin, title="Live")
    gone = create(http, admin, title="Gone")
    http.post(f"{TESTS}/{live['test_id']}/publish", headers=admin).raise_for_status()
    last = http.delete(f"{TESTS}/{gone['test_id']}", headers=admin).json()["position"]

    first = http.get(TESTS, headers=admin, params={"min_position": last, "limit": 1}).json()
    second = http.get(TESTS, headers=admin, params={"cursor": first["next_cursor"]}).json()

    listed = first["tests"] + second["tests"]
    assert [(t["test_id"], t["published"]) for t in listed] == [
        (live["test_id"], True),
        (draft["test_id"], False),
    ]
    assert second["next_cursor"] is None
