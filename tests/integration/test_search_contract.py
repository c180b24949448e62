"""One contract for every ``SearchIndex`` adapter: Korean, typos, tags, removal, versions, pages.

PostgreSQL runs on each server of the ``dsn`` fixture; Meilisearch needs a server at
``CHRONICLE_MEILISEARCH_URL`` (key in ``CHRONICLE_MEILISEARCH_KEY``) and is skipped otherwise.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.search import MeiliSearchIndex, PostgresSearchIndex, SearchDocument, SearchIndex
from eventstore.database import read_pool

MEILI_URL = os.environ.get("CHRONICLE_MEILISEARCH_URL")
NO_MEILI = "CHRONICLE_MEILISEARCH_URL is not set: no Meilisearch server to run the contract on"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["postgres", "meilisearch"])
def index(request: pytest.FixtureRequest, dsn: str) -> Iterator[SearchIndex]:
    """An empty index of one adapter (Meilisearch once, beside the embedded server's run)."""
    if request.param == "postgres":
        pool = read_pool(dsn, size=2, wait_seconds=10)
        try:
            postgres = PostgresSearchIndex(pool)
            postgres.ensure()
            postgres.clear()
            yield postgres
        finally:
            pool.close()
        return
    if not MEILI_URL:
        pytest.skip(NO_MEILI)
    if request.node.callspec.params.get("dsn") != "embedded":
        pytest.skip("the Meilisearch run needs no PostgreSQL: it runs once, with 'embedded'")
    uid = f"chronicle_test_{uuid.uuid4().hex[:12]}"
    meili = MeiliSearchIndex(MEILI_URL, os.environ.get("CHRONICLE_MEILISEARCH_KEY"), index_uid=uid)
    meili.ensure()
    try:
        yield meili
    finally:
        meili._client.delete_index(uid)


_positions = iter(range(1, 1_000_000))


def doc(title: str, *, description: str = "", tags=(), version: int = 1, test_id=None):
    position = next(_positions)
    return SearchDocument(
        id=test_id or uuid.uuid4(),
        version=version,
        position=position,
        title=title,
        description=description,
        tags=tuple(tags),
        thumbnail=f"thumbs/{position}.png",
        updated_at=T0 + timedelta(seconds=position),
    )


def titles(index: SearchIndex, q: str, **options) -> list[str]:
    return [hit.title for hit in index.search(q, limit=options.pop("limit", 20), **options)]


@pytest.fixture
def korean(index: SearchIndex) -> SearchIndex:
    for title in ["여행 성향 테스트", "해외여행 준비 체크리스트", "연애 스타일 테스트"]:
        index.upsert(doc(title))
    return index


def test_a_korean_word_finds_the_title_that_starts_with_it(korean):
    assert titles(korean, "여행") == ["해외여행 준비 체크리스트", "여행 성향 테스트"]


def test_a_korean_word_finds_the_title_that_has_it_in_the_middle(korean):
    assert titles(korean, "성향") == ["여행 성향 테스트"]


def test_a_korean_word_finds_a_compound_that_contains_it(korean):
    assert "해외여행 준비 체크리스트" in titles(korean, "여행")


def test_every_korean_term_must_match(korean):
    assert titles(korean, "여행 테스트") == ["여행 성향 테스트"]


def test_a_korean_word_in_no_title_finds_nothing(korean):
    assert titles(korean, "음식") == []


def test_a_one_character_typo_in_a_latin_word_still_matches(index):
    index.upsert(doc("Big Five personality test"))

    assert titles(index, "persnality") == ["Big Five personality test"]


def test_latin_matching_ignores_case(index):
    index.upsert(doc("Personality Quiz"))

    assert titles(index, "PERSONALITY") == ["Personality Quiz"]


def test_the_description_and_the_tags_are_searched(index):
    index.upsert(doc("A", description="당신의 여행 스타일은?"))
    index.upsert(doc("B", tags=["travel"]))

    assert titles(index, "스타일") == ["A"]
    assert titles(index, "travel") == ["B"]


def test_the_tag_filter_keeps_only_tests_with_that_tag_whatever_its_case(index):
    index.upsert(doc("여행 테스트 1", tags=["Travel", "여행"]))
    index.upsert(doc("여행 테스트 2", tags=["연애"]))

    assert titles(index, "여행", tag="travel") == ["여행 테스트 1"]
    assert titles(index, "", tag="연애") == ["여행 테스트 2"]


def test_an_empty_query_lists_every_document_newest_first(index):
    for title in ["old", "middle", "new"]:
        index.upsert(doc(title))

    assert titles(index, "") == ["new", "middle", "old"]


@pytest.mark.parametrize("q", ["%", "%%", "'", "\\", '"', "*", ".*", "(", "[", "?", " ! "])
def test_a_query_of_punctuation_only_finds_nothing(index, q):
    index.upsert(doc("100% 여행 (테스트) [*] ?"))

    assert titles(index, q) == []


def test_a_blank_query_lists_every_document_like_an_empty_one(index):
    index.upsert(doc("여행 테스트"))

    assert titles(index, "   ") == ["여행 테스트"]


@pytest.mark.parametrize("q", ["_", "%_%"])
def test_an_underscore_is_taken_literally(index, q):
    index.upsert(doc("snake_case quiz"))
    index.upsert(doc("plain quiz"))

    assert titles(index, q) == ["snake_case quiz"]


def test_hits_carry_what_a_list_page_needs(index):
    stored = doc("여행 성향 테스트", tags=["여행"])
    index.upsert(stored)

    [hit] = index.search("여행", limit=10)

    assert (hit.id, hit.title, hit.thumbnail, hit.tags) == (
        stored.id,
        stored.title,
        stored.thumbnail,
        ("여행",),
    )
    assert hit.updated_at == stored.updated_at
    assert hit.position == stored.position


def test_pages_follow_the_cursor_without_gaps_or_repeats(index):
    for n in range(7):
        index.upsert(doc(f"여행 테스트 {n}"))

    first = index.search("여행", limit=3)
    second = index.search("여행", limit=3, after=first[-1].position)
    third = index.search("여행", limit=3, after=second[-1].position)

    pages = [[hit.title for hit in page] for page in (first, second, third)]
    assert pages == [
        ["여행 테스트 6", "여행 테스트 5", "여행 테스트 4"],
        ["여행 테스트 3", "여행 테스트 2", "여행 테스트 1"],
        ["여행 테스트 0"],
    ]


def test_a_removed_test_is_found_no_more(index):
    test = doc("여행 성향 테스트", version=3)
    index.upsert(test)

    index.remove(test.id, 4)

    assert titles(index, "여행") == []


def test_a_newer_version_replaces_the_older(index):
    test = doc("여행 테스트", version=1)
    index.upsert(test)

    index.upsert(doc("연애 테스트", version=2, test_id=test.id))

    assert (titles(index, "여행"), titles(index, "연애")) == ([], ["연애 테스트"])


def test_an_older_version_after_a_newer_one_changes_nothing(index):
    test_id = uuid.uuid4()
    index.upsert(doc("연애 테스트", version=5, test_id=test_id))

    index.upsert(doc("여행 테스트", version=4, test_id=test_id))

    assert (titles(index, "여행"), titles(index, "연애")) == ([], ["연애 테스트"])


def test_repeating_the_same_version_changes_nothing(index):
    test_id = uuid.uuid4()
    index.upsert(doc("연애 테스트", version=5, test_id=test_id))

    index.upsert(doc("여행 테스트", version=5, test_id=test_id))

    assert titles(index, "테스트") == ["연애 테스트"]


def test_the_removal_of_an_older_version_after_a_newer_upsert_is_ignored(index):
    test = doc("여행 테스트", version=6)
    index.upsert(test)

    index.remove(test.id, 5)

    assert titles(index, "여행") == ["여행 테스트"]


def test_an_older_upsert_after_a_removal_stays_removed(index):
    test_id = uuid.uuid4()
    index.remove(test_id, 6)

    index.upsert(doc("여행 테스트", version=5, test_id=test_id))

    assert titles(index, "여행") == []


def test_a_newer_upsert_after_a_removal_is_found_again(index):
    test_id = uuid.uuid4()
    index.upsert(doc("여행 테스트", version=1, test_id=test_id))
    index.remove(test_id, 2)

    index.upsert(doc("여행 테스트", version=3, test_id=test_id))

    assert titles(index, "여행") == ["여행 테스트"]


def test_clear_forgets_documents_and_tombstones(index):
    test_id = uuid.uuid4()
    index.remove(test_id, 9)
    index.upsert(doc("연애 테스트"))

    index.clear()
    index.upsert(doc("여행 테스트", version=1, test_id=test_id))

    assert titles(index, "테스트") == ["여행 테스트"]
