"""The cache purge reactor on real PostgreSQL, with the in-process cache and with Redis: once a
save's position is purged, neither the detail nor the lists serve the old version again, even to
a reader that loaded the old row before the catalog moved and offers it after the purge."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from adapters.cache import Cache, InMemoryCache, RedisCache
from eventstore.database import read_pool
from projections.engine.runner import read_position
from projections.testcatalog.cache import cached_detail, cached_list, detail_key
from projections.testcatalog.purge import TestCachePurge
from projections.testcatalog.queries import get_public_test, list_public_tests
from tests.conftest import wait_until
from tests.integration.flaky import letters
from tests.integration.sitereactors import Site, published, save, unpublish
from tests.integration.test_cache_contract import REDIS_URL, _redis_unreachable

NAME = "test_cache_purge"
PURGED = ["test_catalog", NAME]
TTL = 60.0
OLD, NEW = "여행 성향 테스트", "연애 스타일 테스트"


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    if request.param == "memory":
        yield InMemoryCache()
        return
    reason = _redis_unreachable()
    if reason:
        pytest.skip(reason)
    redis_cache = RedisCache(REDIS_URL, prefix=f"chronicle-test:{request.node.name}:")
    redis_cache.clear()
    yield redis_cache
    redis_cache.clear()
    redis_cache.close()


@pytest.fixture
def pool(clean_dsn: str) -> Iterator[ConnectionPool]:
    reads = read_pool(clean_dsn, size=2, wait_seconds=10)
    yield reads
    reads.close()


@pytest.fixture
def site(clean_dsn: str, app: Any, cache: Cache) -> Iterator[Site]:
    running = Site(clean_dsn, app, lambda watcher: [TestCachePurge(cache, watcher)])
    yield running
    running.stop()


def load_detail(pool: ConnectionPool, test_id: UUID) -> Callable[[], tuple[bytes, int] | None]:
    """What the public detail route loads: the public row's JSON and its version, or None."""

    def load() -> tuple[bytes, int] | None:
        row = get_public_test(pool, test_id)
        if row is None:
            return None
        return json.dumps({"title": row["title"]}).encode(), int(row["version"])

    return load


def load_list(pool: ConnectionPool) -> Callable[[], bytes]:
    """What the public list route loads: the first page's titles, as JSON."""
    return lambda: json.dumps(
        [row["title"] for row in list_public_tests(pool, tag=None, after=None, limit=20)]
    ).encode()


def detail(cache: Cache, pool: ConnectionPool, test_id: UUID) -> str | None:
    hit = cached_detail(cache, test_id, load_detail(pool, test_id), TTL)
    return None if hit is None else json.loads(hit.value)["title"]


def listing(cache: Cache, pool: ConnectionPool) -> list[str]:
    return json.loads(cached_list(cache, pool, "limit=20", load_list(pool), TTL))


def test_once_a_save_is_purged_the_detail_never_serves_the_old_title(executor, site, cache, pool):
    test_id, position = published(executor, title=OLD)
    site.wait(PURGED, position)
    assert detail(cache, pool, test_id) == OLD
    assert cache.get(detail_key(test_id)) is not None  # served from the cache from now on

    site.wait(PURGED, save(executor, test_id, 2, title=NEW))

    assert detail(cache, pool, test_id) == NEW


def test_once_an_unpublication_is_purged_the_detail_is_not_found(executor, site, cache, pool):
    test_id, position = published(executor, title=OLD)
    site.wait(PURGED, position)
    assert detail(cache, pool, test_id) == OLD

    site.wait(PURGED, unpublish(executor, test_id))

    assert detail(cache, pool, test_id) is None
    assert cache.get(detail_key(test_id)) is None  # and nothing was cached for it


def test_a_detail_read_before_the_save_and_offered_after_the_purge_is_not_cached(
    executor, site, cache, pool
):
    test_id, position = published(executor, title=OLD)
    site.wait(PURGED, position)
    loaded, purged = threading.Event(), threading.Event()
    served: list[Any] = []

    def slow_load() -> tuple[bytes, int] | None:
        row = load_detail(pool, test_id)()  # the old row, before the catalog moves ...
        loaded.set()
        purged.wait(30)  # ... offered to the cache only after the purge
        return row

    reader = threading.Thread(
        target=lambda: served.append(cached_detail(cache, test_id, slow_load, TTL))
    )
    reader.start()
    assert loaded.wait(30)
    site.wait(PURGED, save(executor, test_id, 2, title=NEW))
    purged.set()
    reader.join(30)

    assert json.loads(served[0].value)["title"] == OLD  # its own answer predates the save
    assert cache.get(detail_key(test_id)) is None  # but it was not cached
    assert detail(cache, pool, test_id) == NEW


def test_once_a_save_is_purged_the_list_never_serves_the_old_title(executor, site, cache, pool):
    test_id, position = published(executor, title=OLD)
    site.wait(PURGED, position)
    assert listing(cache, pool) == [OLD]

    site.wait(PURGED, save(executor, test_id, 2, title=NEW))

    assert listing(cache, pool) == [NEW]


@pytest.mark.parametrize("generation", ["cached", "lapsed"])
def test_a_list_read_before_the_save_and_offered_after_the_purge_is_never_served(
    executor, site, cache, pool, generation
):
    test_id, position = published(executor, title=OLD)
    site.wait(PURGED, position)
    if generation == "lapsed":  # as after the generation's ttl and floor ran out
        cache.clear()
    loaded, purged = threading.Event(), threading.Event()
    served: list[bytes] = []

    def slow_load() -> bytes:
        page = load_list(pool)()
        loaded.set()
        purged.wait(30)
        return page

    reader = threading.Thread(
        target=lambda: served.append(cached_list(cache, pool, "limit=20", slow_load, TTL))
    )
    reader.start()
    assert loaded.wait(30)
    site.wait(PURGED, save(executor, test_id, 2, title=NEW))
    purged.set()
    reader.join(30)

    assert json.loads(served[0]) == [OLD]
    assert listing(cache, pool) == [NEW]


def test_the_purge_waits_for_the_catalog_and_pauses_without_parking(
    executor, clean_dsn, app, pool, caplog
):
    cache = InMemoryCache()
    caplog.set_level(logging.WARNING, logger="projections.engine.follower")
    site = Site(clean_dsn, app, lambda w: [TestCachePurge(cache, w, catalog_timeout=0.2)])
    try:
        test_id, position = published(executor, title=OLD)
        site.wait(PURGED, position)
        assert detail(cache, pool, test_id) == OLD
        assert site.catalog is not None
        site.catalog.stop()  # the catalog falls behind

        saved = save(executor, test_id, 2, title=NEW)
        wait_until(
            lambda: any(f"{NAME} paused" in record.getMessage() for record in caplog.records),
            what="the purge to pause, waiting for the catalog",
        )
        with psycopg.connect(clean_dsn) as conn:
            assert read_position(conn, NAME) < saved
        assert detail(cache, pool, test_id) == OLD  # the catalog still says so: not purged

        site.start_catalog()
        site.wait(PURGED, saved)
    finally:
        site.stop()

    assert detail(cache, pool, test_id) == NEW
    assert letters(clean_dsn, NAME) == []
