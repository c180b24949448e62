"""The search adapters' pure rules: normalising, terms, grams, and Meilisearch's documents."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from adapters.search.meili import document, hit, search_params, tombstone
from adapters.search.port import MAX_LIMIT, SearchDocument, check_search
from adapters.search.text import body, grams, query_terms, tag_key, term_keys, terms
from domain.errors import InvalidCommand


def test_normalising_folds_case_and_full_width_letters():
    assert terms("ＭＢＴＩ Personality") == ["mbti", "personality"]


def test_decomposed_hangul_is_composed():
    decomposed = "\u110b\u1167\u1112\u1162\u11bc"  # 여행 as conjoining jamo

    assert terms(decomposed) == ["여행"]


def test_punctuation_separates_terms():
    assert terms("당신의 여행, 스타일은?") == ["당신의", "여행", "스타일은"]


def test_the_body_is_the_terms_joined_by_single_spaces():
    assert body("여행  성향!", "Test") == "여행 성향 test"


def test_query_terms_drop_repeats_and_keep_the_order():
    assert query_terms("여행 test 여행 TEST") == ["여행", "test"]


def test_a_query_keeps_at_most_eight_terms():
    assert len(query_terms(" ".join(str(n) for n in range(20)))) == 8


def test_a_word_is_indexed_under_its_characters_and_pairs():
    assert grams(["해외여행"]) == sorted({"해", "외", "여", "행", "해외", "외여", "여행"})


def test_pairs_never_cross_words():
    assert "행성" not in grams(["여행", "성향"])


def test_a_term_needs_its_pairs_so_a_compound_contains_it():
    assert set(term_keys("여행")) <= set(grams(["해외여행"]))


def test_a_one_character_term_needs_that_character():
    assert term_keys("꿈") == ["꿈"]


def test_tag_keys_ignore_case_and_extra_spaces():
    assert tag_key("  Big   FIVE ") == "big five"


@pytest.mark.parametrize("limit", [0, MAX_LIMIT + 1])
def test_a_limit_out_of_range_is_refused(limit):
    with pytest.raises(InvalidCommand):
        check_search("여행", limit, None)


def test_a_very_long_query_is_refused():
    with pytest.raises(InvalidCommand):
        check_search("여" * 201, 10, None)


def test_a_negative_cursor_is_refused():
    with pytest.raises(InvalidCommand):
        check_search("여행", 10, -1)


def test_a_meilisearch_document_carries_version_position_and_tag_keys():
    doc = SearchDocument(
        id=uuid.uuid4(),
        version=3,
        position=42,
        title="여행 성향 테스트",
        description="",
        tags=("Travel", "travel"),
        thumbnail="thumbs/a.png",
        updated_at=datetime(2025, 1, 1, tzinfo=UTC),
    )

    stored = document(doc)

    assert (stored["version"], stored["position"], stored["listed"]) == (3, 42, True)
    assert stored["tag_keys"] == ["travel"]
    assert hit(stored).updated_at == doc.updated_at


def test_a_meilisearch_tombstone_is_unlisted_with_its_version():
    test_id = uuid.uuid4()

    assert tombstone(test_id, 7) == {
        "id": str(test_id),
        "version": 7,
        "listed": False,
        "tags": [],
        "tag_keys": [],
        "_vectors": {"chronicle": None},  # an unlisted test keeps no vector either
    }


def test_meilisearch_filters_quote_the_tag_and_list_newest_first():
    params = search_params(tag='A "b"', limit=5, after=10)

    assert params["filter"] == ["listed = true", 'tag_keys = "a \\"b\\""', "position < 10"]
    assert (params["sort"], params["matchingStrategy"]) == (["position:desc"], "all")
