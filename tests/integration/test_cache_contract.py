"""One contract for every ``Cache`` adapter: in-process, and Redis when one answers.

The Redis run uses ``CHRONICLE_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``) and is skipped,
with the reason, when no server answers there. Every Redis cache gets a prefix of its own.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis as redis_client
from redis.exceptions import RedisError

from adapters.cache import Cache, Cached, InMemoryCache, RedisCache, read_through
from tests.conftest import wait_until

REDIS_URL = os.environ.get("CHRONICLE_REDIS_URL", "redis://127.0.0.1:6379/0")
MakeCache = Callable[..., Cache]


def _redis_unreachable() -> str | None:
    try:
        with redis_client.Redis.from_url(REDIS_URL, socket_connect_timeout=2) as probe:
            probe.ping()
    except RedisError as exc:
        return f"no Redis answers at CHRONICLE_REDIS_URL or 127.0.0.1:6379: {exc}"
    return None


@pytest.fixture(params=["memory", "redis"])
def make_cache(request: pytest.FixtureRequest) -> Iterator[MakeCache]:
    """Builds caches of one adapter: ``make_cache(prefix=..., floor_seconds=...)``."""
    if request.param == "memory":
        yield lambda prefix=None, **options: InMemoryCache(**options)
        return
    reason = _redis_unreachable()
    if reason:
        pytest.skip(reason)
    built: list[RedisCache] = []
    run = uuid.uuid4().hex[:12]

    def make(prefix: str | None = None, **options: object) -> Cache:
        cache = RedisCache(REDIS_URL, prefix=f"chronicle-test:{run}:{prefix or 'main'}:", **options)
        built.append(cache)
        return cache

    yield make
    for cache in built:
        cache.clear()
        cache.close()


@pytest.fixture
def cache(make_cache: MakeCache) -> Cache:
    return make_cache()


def test_a_stored_value_is_read_back_with_its_version(cache):
    assert cache.put("tests/t1", b'{"title": "MBTI"}', 3, ttl_seconds=60) is True

    assert cache.get("tests/t1") == Cached(b'{"title": "MBTI"}', 3)


def test_a_key_never_stored_is_a_miss(cache):
    assert cache.get("tests/unknown") is None


def test_an_entry_is_a_miss_once_its_ttl_has_passed(cache):
    cache.put("tests/t1", b"v1", 1, ttl_seconds=0.05)

    wait_until(lambda: cache.get("tests/t1") is None, timeout=5, what="the entry to expire")


def test_an_older_version_is_refused_and_the_newer_one_kept(cache):
    cache.put("tests/t1", b"v2", 2, ttl_seconds=60)

    assert cache.put("tests/t1", b"v1", 1, ttl_seconds=60) is False
    assert cache.get("tests/t1") == Cached(b"v2", 2)


def test_a_newer_or_equal_version_replaces_the_entry(cache):
    cache.put("tests/t1", b"v1", 1, ttl_seconds=60)

    assert cache.put("tests/t1", b"v1 again", 1, ttl_seconds=60) is True
    assert cache.put("tests/t1", b"v2", 2, ttl_seconds=60) is True
    assert cache.get("tests/t1") == Cached(b"v2", 2)


def test_an_expired_entry_still_refuses_an_older_version(cache):
    cache.put("tests/t1", b"v2", 2, ttl_seconds=0.05)
    wait_until(lambda: cache.get("tests/t1") is None, timeout=5, what="the entry to expire")

    assert cache.put("tests/t1", b"v1", 1, ttl_seconds=60) is False
    assert cache.get("tests/t1") is None


def test_invalidate_removes_every_key_given_and_no_other(cache):
    pages = [f"tests/list/page-{n}" for n in range(600)]
    for key in [*pages, "tests/t9"]:
        cache.put(key, b"old", 1, ttl_seconds=60)

    cache.invalidate(pages, 2)

    assert [key for key in pages if cache.get(key) is not None] == []
    assert cache.get("tests/t9") == Cached(b"old", 1)


def test_after_an_invalidation_an_older_version_is_refused(cache):
    cache.put("tests/t1", b"v1", 1, ttl_seconds=60)
    cache.invalidate(["tests/t1"], 2)

    assert cache.put("tests/t1", b"v1", 1, ttl_seconds=60) is False
    assert cache.get("tests/t1") is None


def test_after_an_invalidation_the_invalidated_version_is_stored(cache):
    cache.invalidate(["tests/t1"], 2)

    assert cache.put("tests/t1", b"v2", 2, ttl_seconds=60) is True
    assert cache.get("tests/t1") == Cached(b"v2", 2)


def test_an_invalidation_with_an_older_version_keeps_the_newer_floor(cache):
    cache.put("tests/t1", b"v5", 5, ttl_seconds=60)

    cache.invalidate(["tests/t1"], 3)

    assert cache.get("tests/t1") is None
    assert cache.put("tests/t1", b"v4", 4, ttl_seconds=60) is False


def test_a_floor_lapses_after_floor_seconds(make_cache):
    cache = make_cache(floor_seconds=0.1)
    cache.invalidate(["tests/t1"], 2)

    wait_until(
        lambda: cache.put("tests/t1", b"v1", 1, ttl_seconds=60),
        timeout=5,
        what="the floor to lapse",
    )
    assert cache.get("tests/t1") == Cached(b"v1", 1)


def test_a_reader_that_read_before_an_invalidation_cannot_cache_its_stale_result(cache):
    catalog = {"title": b"old", "version": 1}
    read, purged = threading.Event(), threading.Event()
    served: list[Cached] = []

    def load() -> tuple[bytes, int]:
        value, version = catalog["title"], catalog["version"]
        read.set()  # the reader holds version 1 ...
        purged.wait(10)  # ... while the catalog moves on and the purge runs
        return value, version

    reader = threading.Thread(target=lambda: served.append(read_through(cache, "t", load, 60)))
    reader.start()
    assert read.wait(10)
    catalog.update(title=b"new", version=2)  # the catalog projection applies the save
    cache.invalidate(["t"], 2)  # the purge reactor runs after the catalog
    purged.set()
    reader.join(10)

    assert served == [Cached(b"old", 1)]  # that reader's own answer was read before the save
    assert cache.get("t") is None  # but it did not put it back into the cache
    fresh = read_through(cache, "t", lambda: (catalog["title"], catalog["version"]), 60)
    assert fresh == Cached(b"new", 2)


def test_concurrent_readers_never_leave_an_old_version_behind_the_last_purge(cache):
    catalog = {"version": 0}
    lock, writing = threading.Lock(), threading.Event()
    writing.set()

    def load() -> tuple[bytes, int]:
        with lock:
            version = catalog["version"]
        return f"v{version}".encode(), version

    def read_until_done() -> None:
        while writing.is_set():
            read_through(cache, "tests/list", load, ttl_seconds=60)

    readers = [threading.Thread(target=read_until_done) for _ in range(6)]
    for thread in readers:
        thread.start()
    for version in range(1, 41):
        with lock:
            catalog["version"] = version
        cache.invalidate(["tests/list"], version)
    writing.clear()
    for thread in readers:
        thread.join(30)

    assert cache.get("tests/list") in (None, Cached(b"v40", 40))
    assert cache.put("tests/list", b"v39", 39, ttl_seconds=60) is False


def test_caches_with_different_prefixes_do_not_share_entries_or_purges(make_cache):
    first, second = make_cache(prefix="first"), make_cache(prefix="second")
    first.put("tests/t1", b"first", 5, ttl_seconds=60)
    second.put("tests/t1", b"second", 1, ttl_seconds=60)

    first.invalidate(["tests/t1"], 9)
    second.put("tests/t2", b"second", 1, ttl_seconds=60)
    first.clear()

    assert first.get("tests/t1") is None
    assert second.get("tests/t1") == Cached(b"second", 1)
    assert second.get("tests/t2") == Cached(b"second", 1)


def test_clear_forgets_entries_and_floors(cache):
    cache.put("tests/t1", b"v3", 3, ttl_seconds=60)
    cache.invalidate(["tests/t2"], 7)

    cache.clear()

    assert cache.get("tests/t1") is None
    assert cache.put("tests/t2", b"v1", 1, ttl_seconds=60) is True
