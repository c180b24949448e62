"""The search index reactor on real PostgreSQL: Korean titles found, unpublished and deleted tests
lost, older versions never winning, and a failing index retried, parked and retried by an admin
while other tests and the catalog go on."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
from psycopg_pool import ConnectionPool

from adapters.search import PostgresSearchIndex, SearchDocument
from eventstore.database import read_pool
from projections.engine.deadletters import request_retry
from projections.testcatalog.queries import get_test
from projections.testsearch.reactor import TestSearchIndexer
from tests.conftest import wait_until
from tests.integration.flaky import letters
from tests.integration.sitereactors import (
    ATTEMPTS,
    Site,
    create,
    delete,
    events_of,
    published,
    save,
    unpublish,
)
from tests.integration.test_projections import head

NAME = "test_search"
BOTH = ["test_catalog", NAME]


class FailingSearch:
    """The PostgreSQL index, whose writes fail (the adapter, not the database) for chosen tests.

    A test in ``broken`` fails every write; one in ``failures`` fails that many writes first.
    """

    def __init__(self, index: PostgresSearchIndex) -> None:
        self.index = index
        self.broken: set[UUID] = set()
        self.failures: Counter[UUID] = Counter()
        self.attempts: Counter[tuple[UUID, int]] = Counter()
        self.written: list[tuple[UUID, int]] = []
        self._lock = threading.Lock()

    def ensure(self) -> None:
        self.index.ensure()

    def clear(self) -> None:
        self.index.clear()

    def upsert(self, doc: SearchDocument) -> None:
        self._attempt(doc.id, doc.version)
        self.index.upsert(doc)
        self.written.append((doc.id, doc.version))

    def remove(self, test_id: UUID, version: int) -> None:
        self._attempt(test_id, version)
        self.index.remove(test_id, version)
        self.written.append((test_id, version))

    def search(self, q: str, **options: Any) -> Any:
        return self.index.search(q, **options)

    def _attempt(self, test_id: UUID, version: int) -> None:
        with self._lock:
            self.attempts[(test_id, version)] += 1
            if test_id in self.broken or self.failures[test_id] > 0:
                self.failures[test_id] -= 1
                raise RuntimeError(f"the search engine refused version {version} of {test_id}")


@pytest.fixture
def pool(clean_dsn: str) -> Iterator[ConnectionPool]:
    reads = read_pool(clean_dsn, size=2, wait_seconds=10)
    yield reads
    reads.close()


@pytest.fixture
def search(pool: ConnectionPool) -> FailingSearch:
    index = PostgresSearchIndex(pool)
    index.ensure()
    return FailingSearch(index)


@pytest.fixture
def site(clean_dsn: str, app: Any, search: FailingSearch) -> Iterator[Site]:
    running = Site(clean_dsn, app, lambda _: [TestSearchIndexer(app, search)])
    yield running
    running.stop()


def found(search: FailingSearch, q: str) -> list[UUID]:
    return [hit.id for hit in search.search(q, limit=20)]


def test_a_published_korean_titled_test_is_found_by_each_of_its_words(executor, site, search):
    test_id, position = published(executor, title="여행 성향 테스트")

    site.wait([NAME], position)

    assert found(search, "여행") == [test_id]
    assert found(search, "성향") == [test_id]


def test_a_draft_is_not_indexed(executor, site, search):
    _, position = create(executor, title="여행 초안")

    site.wait([NAME], position)

    assert found(search, "초안") == []


def test_an_unpublished_test_is_found_no_more(executor, site, search):
    test_id, position = published(executor, title="여행 성향 테스트")
    site.wait([NAME], position)

    site.wait([NAME], unpublish(executor, test_id))

    assert found(search, "여행") == []


def test_a_deleted_test_is_found_no_more(executor, site, search):
    test_id, position = published(executor, title="여행 성향 테스트")
    site.wait([NAME], position)

    site.wait([NAME], delete(executor, test_id))

    assert found(search, "여행") == []


def test_a_saved_title_replaces_the_old_one_in_the_index(executor, site, search):
    test_id, _ = published(executor, title="여행 성향 테스트")

    site.wait([NAME], save(executor, test_id, 2, title="연애 스타일 테스트"))

    assert (found(search, "여행"), found(search, "연애")) == ([], [test_id])


def test_each_delivery_indexes_the_test_as_of_its_own_event(app, executor, search):
    test_id, _ = published(executor, title="여행 성향 테스트")
    save(executor, test_id, 2, title="연애 스타일 테스트")
    _, publication, _ = events_of(app, test_id)
    indexer = TestSearchIndexer(app, search)

    indexer.react(*publication)  # delivered late: version 3 is in the store already

    assert (found(search, "여행"), found(search, "연애")) == ([test_id], [])


def test_an_older_version_delivered_after_a_newer_one_never_wins(app, executor, search):
    test_id, _ = published(executor, title="여행 성향 테스트")
    save(executor, test_id, 2, title="연애 스타일 테스트")
    _, publication, saved = events_of(app, test_id)
    indexer = TestSearchIndexer(app, search)

    indexer.react(*saved)
    indexer.react(*publication)

    assert (found(search, "여행"), found(search, "연애")) == ([], [test_id])


def test_an_older_version_delivered_after_a_removal_stays_removed(app, executor, search):
    test_id, _ = published(executor, title="여행 성향 테스트")
    unpublish(executor, test_id)
    _, publication, unpublication = events_of(app, test_id)
    indexer = TestSearchIndexer(app, search)

    indexer.react(*unpublication)
    indexer.react(*publication)

    assert found(search, "여행") == []


def test_a_write_that_fails_a_few_times_is_retried_until_delivered(
    executor, site, search, clean_dsn
):
    test_id = uuid4()
    search.failures[test_id] = ATTEMPTS - 1

    _, position = published(executor, test_id, title="여행 성향 테스트")
    site.wait([NAME], position)

    assert search.attempts[(test_id, 1)] == ATTEMPTS
    assert found(search, "여행") == [test_id]
    assert letters(clean_dsn, NAME) == []


@pytest.fixture
def parked(executor, site, search, clean_dsn) -> tuple[UUID, UUID]:
    """A test whose writes all fail (published, then saved), and another test published after."""
    bad = uuid4()
    search.broken.add(bad)
    published(executor, bad, title="여행 성향 테스트")
    other, _ = published(executor, title="연애 스타일 테스트")
    save(executor, bad, 2, title="해외여행 준비 테스트")
    site.wait(BOTH, head(clean_dsn))
    return bad, other


def test_a_write_that_keeps_failing_is_parked_and_other_tests_flow_past_it(
    parked, search, clean_dsn
):
    bad, other = parked

    first = letters(clean_dsn, NAME)[0]

    assert (first["aggregate_id"], first["aggregate_version"]) == (bad, 1)
    assert (first["state"], first["attempts"]) == ("parked", ATTEMPTS)
    assert "RuntimeError: the search engine refused version 1" in first["error"]
    assert found(search, "연애") == [other]


def test_later_events_of_the_parked_test_wait_behind_it(parked, search, clean_dsn):
    bad, _ = parked

    waiting = letters(clean_dsn, NAME)[1:]

    assert [(w["aggregate_version"], w["state"]) for w in waiting] == [
        (2, "waiting"),
        (3, "waiting"),
    ]
    assert (search.attempts[(bad, 2)], search.attempts[(bad, 3)]) == (0, 0)
    assert found(search, "여행") == []


def test_the_catalog_is_unaffected_by_a_parked_search_event(parked, pool):
    bad, _ = parked

    row = get_test(pool, bad)

    assert row is not None
    assert (row["version"], row["title"], row["published"]) == (3, "해외여행 준비 테스트", True)


def test_an_admin_retry_delivers_the_parked_event_and_those_behind_it_in_order(
    parked, search, clean_dsn, pool
):
    bad, other = parked
    search.broken.clear()  # the search engine is fixed

    request_retry(pool, letters(clean_dsn, NAME)[0]["id"])
    wait_until(
        lambda: {letter["state"] for letter in letters(clean_dsn, NAME)} == {"delivered"},
        what="the parked letter and those behind it to be delivered",
    )

    assert [version for test_id, version in search.written if test_id == bad] == [1, 2, 3]
    assert found(search, "해외여행") == [bad]
    assert found(search, "성향") == []  # the title of version 2 did not come back
    assert found(search, "여행") == [bad]
    assert found(search, "연애") == [other]
    assert get_test(pool, bad)["title"] == "해외여행 준비 테스트"


def test_the_services_run_the_search_index_reactor(running):
    test_id, position = published(running.executor, title="여행 성향 테스트")

    assert running.watcher.wait_for_position(BOTH, position, timeout=30)

    assert [hit.id for hit in running.search.search("성향", limit=10)] == [test_id]
