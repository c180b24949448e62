"""``InMemoryCache`` on a hand-driven clock: ttl, LRU bound, floors that outlive values."""

from __future__ import annotations

import threading

import pytest

from adapters.cache import Cached, InMemoryCache, read_through


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(clock: Clock) -> InMemoryCache:
    return InMemoryCache(max_entries=3, floor_seconds=100, clock=clock)


def test_an_entry_lives_until_its_ttl_and_no_longer(cache, clock):
    cache.put("a", b"v1", 1, ttl_seconds=10)

    clock.now += 9.9
    assert cache.get("a") == Cached(b"v1", 1)
    clock.now += 0.1
    assert cache.get("a") is None


def test_the_least_recently_used_entry_is_evicted_past_the_bound(cache):
    for key in ("a", "b", "c"):
        cache.put(key, key.encode(), 1, ttl_seconds=60)
    cache.get("a")  # "b" is now the least recently used

    cache.put("d", b"d", 1, ttl_seconds=60)

    assert [key for key in "abcd" if cache.get(key) is not None] == ["a", "c", "d"]


def test_an_evicted_entry_leaves_its_version_as_a_floor(cache):
    cache.put("a", b"v5", 5, ttl_seconds=60)
    for key in ("b", "c", "d"):
        cache.put(key, b"x", 1, ttl_seconds=60)

    assert cache.get("a") is None
    assert cache.put("a", b"v4", 4, ttl_seconds=60) is False
    assert cache.put("a", b"v5", 5, ttl_seconds=60) is True


def test_an_expired_entry_keeps_its_floor_for_floor_seconds_after_its_ttl(cache, clock):
    cache.put("a", b"v5", 5, ttl_seconds=10)

    clock.now += 10 + 99
    assert cache.put("a", b"v4", 4, ttl_seconds=10) is False
    clock.now += 1
    assert cache.put("a", b"v4", 4, ttl_seconds=10) is True


def test_an_invalidation_floor_lapses_after_floor_seconds(cache, clock):
    cache.invalidate(["a"], 7)

    clock.now += 99
    assert cache.put("a", b"v6", 6, ttl_seconds=10) is False
    clock.now += 1
    assert cache.put("a", b"v6", 6, ttl_seconds=10) is True


def test_floors_are_bounded_too_and_the_oldest_goes_first(cache, clock):
    for n, key in enumerate("abcd"):
        clock.now += 1
        cache.invalidate([key], 10 + n)

    assert cache.put("a", b"old", 1, ttl_seconds=10) is True
    assert cache.put("b", b"old", 1, ttl_seconds=10) is False


def test_read_through_loads_on_a_miss_and_serves_the_hit_after(cache):
    loads: list[int] = []

    def load() -> tuple[bytes, int]:
        loads.append(1)
        return b"doc", 3

    first = read_through(cache, "a", load, ttl_seconds=60)
    second = read_through(cache, "a", load, ttl_seconds=60)

    assert first == second == Cached(b"doc", 3)
    assert len(loads) == 1


@pytest.mark.parametrize(
    ("key", "version", "ttl"),
    [
        ("", 1, 1.0),
        ("a", -1, 1.0),
        ("a", 2**53, 1.0),
        ("a", True, 1.0),
        ("a", 1, 0),
        ("a", 1, float("inf")),
    ],
)
def test_a_malformed_put_is_a_programming_error(cache, key, version, ttl):
    with pytest.raises(ValueError):
        cache.put(key, b"x", version, ttl_seconds=ttl)


def test_concurrent_puts_evicting_each_other_leave_the_highest_versions(clock):
    cache = InMemoryCache(max_entries=1, clock=clock)
    start = threading.Barrier(8)

    def put_all(offset: int) -> None:
        start.wait()
        for version in range(offset, 2000, 8):
            cache.put("a", str(version).encode(), version, ttl_seconds=60)
            cache.put("b", str(version).encode(), version, ttl_seconds=60)

    threads = [threading.Thread(target=put_all, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert cache.put("a", b"1998", 1998, ttl_seconds=60) is False
    assert cache.put("b", b"1998", 1998, ttl_seconds=60) is False
