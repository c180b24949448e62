"""The test site's public API over HTTP: list, search, detail (ETag, 304, cache).

Tests are created and published through the command executor; each run is on both
PostgreSQL servers (``live_server`` follows ``dsn``), the cache tests also on Redis.
"""

import os
import uuid

import pytest
import redis

from domain.commands.testdocument import (
    CreateTestDocument,
    DeleteTestDocument,
    SaveTestDocument,
    UnpublishTestDocument,
)
from projections.testcatalog.cache import detail_key
from tests.e2e.testsite import caught_up, published, run
from tests.unit.documents import document

REDIS_URL = os.environ.get("CHRONICLE_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def settings(settings, request):
    """The suite's settings; with the parameter ``redis``, the cache on Redis (or a skip)."""
    if getattr(request, "param", "memory") == "redis":
        try:
            with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as probe:
                probe.ping()
        except redis.RedisError as exc:
            pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
        settings.redis_url = REDIS_URL
        settings.redis_prefix = f"chronicle-test-{uuid.uuid4().hex[:12]}:"
    return settings


@pytest.fixture
def services(live_server):
    return live_server.services


def listed(http, **params):
    response = http.get("/api/tests", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def ids(page):
    return [uuid.UUID(t["id"]) for t in page["tests"]]


def test_the_list_shows_published_tests_newest_first_and_nothing_else(http, services):
    first, second = published(services, title="First"), published(services, title="Second")
    run(services, CreateTestDocument(uuid.uuid4(), document(title="Draft")))
    run(services, DeleteTestDocument(published(services, title="Deleted")))
    caught_up(services, run(services, UnpublishTestDocument(published(services))).position)

    page = listed(http)

    assert ids(page) == [second, first]
    assert page["tests"][0]["title"] == "Second"
    assert page["tests"][0]["tags"] == ["travel", "여행"]
    assert page["tests"][0]["thumbnail_url"] is None
    assert page["next_cursor"] is None


def test_cursor_pages_list_every_test_once_in_order(http, services):
    made = [published(services, title=f"Test {i}") for i in range(5)]

    seen, cursor, pages = [], None, 0
    while True:
        page = listed(http, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += ids(page)
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == made[::-1]
    assert pages == 3


@pytest.mark.parametrize("settings", ["memory", "redis"], indirect=True)
def test_a_walk_through_the_cached_pages_while_admins_edit_sees_each_test_once(http, services):
    before = [published(services, title=f"Test {i}") for i in range(7)]
    versions = dict.fromkeys(before, 2)
    seen, cursor = [], None

    for step in range(8):
        page = listed(http, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += ids(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # Between pages, admins save a test not yet seen and one already seen, and publish one.
        for edited in (before[step], before[-1 - step]):
            saved = run(
                services, SaveTestDocument(edited, versions[edited], document(title=f"v{step}"))
            )
            versions[edited] += 1
        caught_up(services, saved.position)
        published(services, title=f"New {step}")

    assert seen == before[::-1]


def test_a_search_cursor_is_no_list_cursor(http, services):
    published(services, title="여행 1")
    published(services, title="여행 2")
    search_cursor = listed(http, mode="keyword", q="여행", limit=1)["next_cursor"]

    response = http.get("/api/tests", params={"cursor": search_cursor})

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "cursor"


def test_the_tag_filter_matches_a_whole_tag_in_any_case(http, services):
    travel = published(services, tags=["Travel"])
    published(services, tags=["travel agency"])
    published(services, tags=["work"])

    assert ids(listed(http, tag="TRAVEL")) == [travel]


def test_a_cursor_the_api_never_issued_is_refused(http, services):
    response = http.get("/api/tests", params={"cursor": "not-a-cursor"})

    assert response.status_code == 422
    assert response.json()["error"]["field"] == "cursor"


@pytest.mark.parametrize("q", ["여행", "성향"])
def test_a_korean_word_finds_the_korean_title(http, services, q):
    korean = published(services, title="여행 성향 테스트", tags=[])
    published(services, title="Coffee quiz", description="Espresso or latte?", tags=[])

    assert ids(listed(http, mode="keyword", q=q)) == [korean]


def test_a_one_letter_typo_still_finds_a_latin_word(http, services):
    personality = published(services, title="What personality are you?", tags=[])
    published(services, title="Coffee quiz", description="Espresso or latte?", tags=[])

    assert ids(listed(http, mode="keyword", q="persnality")) == [personality]


@pytest.mark.parametrize("q", ["%", "%%", "'", "\\", '"', "*", ".*", "(", "[", "?"])
def test_a_query_without_a_word_finds_nothing(http, services, q):
    published(services, title="100% 여행 (테스트)")

    page = listed(http, mode="keyword", q=q)

    assert (page["tests"], page["next_cursor"]) == ([], None)


def test_search_pages_with_the_same_cursor_and_leaves_unpublished_tests_out(http, services):
    made = [published(services, title=f"여행 {i}") for i in range(3)]
    caught_up(services, run(services, UnpublishTestDocument(made[1])).position)

    first = listed(http, mode="keyword", q="여행", limit=1)
    second = listed(http, mode="keyword", q="여행", limit=1, cursor=first["next_cursor"])

    assert ids(first) + ids(second) == [made[2], made[0]]


def test_the_detail_carries_its_version_as_etag_and_no_scoring(http, services):
    test_id = published(services)

    response = http.get(f"/api/tests/{test_id}")

    body = response.json()
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'  # created, then published
    assert response.headers["cache-control"] == "public, max-age=0, s-maxage=300"
    assert (body["id"], body["version"], body["title"]) == (str(test_id), 2, "여행 성향 테스트")
    assert body["questions"][0]["choices"] == [{"text": "E x1"}, {"text": "I x1"}]
    assert body["results"]["INTJ"] == {"title": "The INTJ", "description": "...", "image_url": None}


@pytest.mark.parametrize("if_none_match", ['"2"', 'W/"2"', '"1", "2"', "*"])
def test_if_none_match_naming_the_version_answers_304(http, services, if_none_match):
    test_id = published(services)

    response = http.get(f"/api/tests/{test_id}", headers={"If-None-Match": if_none_match})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == '"2"'
    assert response.headers["cache-control"].startswith("public, max-age=0")


def test_a_stale_if_none_match_gets_the_document(http, services):
    test_id = published(services)

    response = http.get(f"/api/tests/{test_id}", headers={"If-None-Match": '"1"'})

    assert (response.status_code, response.json()["version"]) == (200, 2)


def test_unknown_unpublished_and_deleted_tests_are_404(http, services):
    unpublished, deleted = published(services), published(services)
    for test_id in (unpublished, deleted):
        assert http.get(f"/api/tests/{test_id}").status_code == 200  # now cached
    run(services, UnpublishTestDocument(unpublished))
    caught_up(services, run(services, DeleteTestDocument(deleted)).position)

    for test_id in (uuid.uuid4(), unpublished, deleted):
        response = http.get(f"/api/tests/{test_id}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_a_get_with_min_position_sees_the_saved_title(http, services):
    test_id = published(services)
    http.get(f"/api/tests/{test_id}").raise_for_status()  # the old version, cached
    saved = run(services, SaveTestDocument(test_id, 2, document(title="새 제목")))

    response = http.get(f"/api/tests/{test_id}", params={"min_position": saved.position})

    assert response.json()["title"] == "새 제목"
    assert response.headers["etag"] == '"3"'


@pytest.mark.parametrize("settings", ["memory", "redis"], indirect=True)
def test_once_the_purge_reached_a_save_no_get_shows_the_old_title(http, services):
    test_id = published(services)
    old = http.get(f"/api/tests/{test_id}")
    assert listed(http)["tests"][0]["title"] == "여행 성향 테스트"  # the list page, cached
    saved = run(services, SaveTestDocument(test_id, 2, document(title="새 제목")))
    caught_up(services, saved.position, ["test_catalog", "test_cache_purge"])

    # A reader that loaded version 2 before the catalog moved offers it only now: refused.
    services.cache.put(detail_key(test_id), old.content, 2, 300)
    detail, page = http.get(f"/api/tests/{test_id}"), listed(http)

    assert (detail.json()["title"], detail.headers["etag"]) == ("새 제목", '"3"')
    assert page["tests"][0]["title"] == "새 제목"
