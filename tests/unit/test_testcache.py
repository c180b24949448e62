"""The test site's cache policy on the in-process cache: the detail read-through and the purge."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import uuid4

import pytest

from adapters.cache import Cached, InMemoryCache
from domain.errors import Unavailable
from projections.testcatalog.cache import GENERATION_KEY, cached_detail, detail_key, purge

TTL = 60.0


def loader(value: bytes | None, version: int = 1):
    calls: list[int] = []

    def load() -> tuple[bytes, int] | None:
        calls.append(1)
        return None if value is None else (value, version)

    return load, calls


def test_a_detail_miss_is_loaded_and_cached_with_its_version():
    cache, test_id = InMemoryCache(), uuid4()
    load, _ = loader(b'{"title": "v3"}', 3)

    assert cached_detail(cache, test_id, load, TTL) == Cached(b'{"title": "v3"}', 3)
    assert cache.get(detail_key(test_id)) == Cached(b'{"title": "v3"}', 3)


def test_a_detail_hit_is_served_without_loading():
    cache, test_id = InMemoryCache(), uuid4()
    cache.put(detail_key(test_id), b"cached", 2, TTL)
    load, calls = loader(b"fresh", 2)

    assert cached_detail(cache, test_id, load, TTL) == Cached(b"cached", 2)
    assert calls == []


def test_a_test_the_public_cannot_see_is_none_and_nothing_is_cached():
    cache, test_id = InMemoryCache(), uuid4()
    load, _ = loader(None)

    assert cached_detail(cache, test_id, load, TTL) is None
    assert cache.get(detail_key(test_id)) is None


def test_after_a_purge_an_older_detail_is_refused_and_the_new_one_cached():
    cache, test_id = InMemoryCache(), uuid4()
    cache.put(detail_key(test_id), b"v2", 2, TTL)

    purge(cache, test_id, 3, position=40)

    assert cache.put(detail_key(test_id), b"v2", 2, TTL) is False
    assert cached_detail(cache, test_id, loader(b"v3", 3)[0], TTL) == Cached(b"v3", 3)


def test_a_purge_raises_the_list_generation_to_its_position():
    cache = InMemoryCache()
    cache.put(GENERATION_KEY, b"10", 10, TTL)

    purge(cache, uuid4(), 2, position=40)

    assert cache.get(GENERATION_KEY) == Cached(b"40", 40)


def test_a_purge_of_an_older_position_never_lowers_the_generation():
    cache = InMemoryCache()
    purge(cache, uuid4(), 2, position=40)

    purge(cache, uuid4(), 5, position=30)  # a retried dead letter, delivered late

    assert cache.put(GENERATION_KEY, b"39", 39, TTL) is False
    assert cache.put(GENERATION_KEY, b"40", 40, TTL) is True


class UnreachableAfterInvalidation(InMemoryCache):
    """A cache lost between the detail's invalidation and the generation's put.

    Its put answers False, as RedisCache's does while Redis cannot be reached.
    """

    def put(self, key: str, value: bytes, version: int, ttl_seconds: float) -> bool:
        return False

    def invalidate(self, keys: Iterable[str], version: int) -> None:
        keys = list(keys)
        if GENERATION_KEY in keys:
            raise Unavailable("the cache could not invalidate")
        super().invalidate(keys, version)


def test_a_purge_whose_generation_could_not_be_raised_fails_to_be_retried():
    with pytest.raises(Unavailable):
        purge(UnreachableAfterInvalidation(), uuid4(), 2, position=40)
