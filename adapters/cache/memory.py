"""``InMemoryCache``: the cache with nothing configured, in this process, bounded and thread-safe.

Two ordered maps under one lock: live values in least-recently-used order (at most
``max_entries``; the least recently used goes first), and floors (key -> version) for keys
whose value left: invalidated, expired or evicted. A value that leaves for any reason leaves
its version as a floor, so eviction under memory pressure never reopens the stale-read race
(see ``adapters.cache.port``). Floors expire after ``floor_seconds`` and are bounded by
``max_entries`` too; past that bound the oldest floor goes first, which weakens the guard only
for a reader that took longer than that floor's age.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import NamedTuple

from adapters.cache.port import (
    DEFAULT_FLOOR_SECONDS,
    Cached,
    check_entry,
    check_floor_seconds,
    check_key,
    check_version,
)


class _Entry(NamedTuple):
    value: bytes
    version: int
    expires_at: float


class _Floor(NamedTuple):
    version: int
    expires_at: float


class InMemoryCache:
    """The in-process ``Cache``: LRU-bounded values with a ttl, and floors that outlive them."""

    def __init__(
        self,
        *,
        max_entries: int = 10_000,
        floor_seconds: float = DEFAULT_FLOOR_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self._max_entries = max_entries
        self._floor_seconds = check_floor_seconds(floor_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._values: OrderedDict[str, _Entry] = OrderedDict()
        self._floors: OrderedDict[str, _Floor] = OrderedDict()

    def get(self, key: str) -> Cached | None:
        """The live entry under the key (now the most recently used), or ``None``."""
        check_key(key)
        with self._lock:
            entry = self._values.get(key)
            if entry is None:
                return None
            if entry.expires_at <= self._clock():
                self._drop_value(key, entry.expires_at + self._floor_seconds)
                return None
            self._values.move_to_end(key)
            return Cached(entry.value, entry.version)

    def put(self, key: str, value: bytes, version: int, ttl_seconds: float) -> bool:
        """Store the value unless a newer version is recorded for the key; ``True`` if stored."""
        check_entry(key, version, ttl_seconds)
        with self._lock:
            now = self._clock()
            if version < self._recorded_version(key, now):
                return False
            self._floors.pop(key, None)  # the entry's own version is the floor while it lives
            self._values[key] = _Entry(bytes(value), version, now + ttl_seconds)
            self._values.move_to_end(key)
            while len(self._values) > self._max_entries:
                evicted, _ = next(iter(self._values.items()))
                self._drop_value(evicted, now + self._floor_seconds)
            return True

    def invalidate(self, keys: Iterable[str], version: int) -> None:
        """Remove the keys' values and record floors of at least ``version``."""
        check_version(version)
        keys = [check_key(key) for key in keys]
        with self._lock:
            now = self._clock()
            for key in keys:
                floor = max(version, self._recorded_version(key, now))
                self._values.pop(key, None)
                self._set_floor(key, _Floor(floor, now + self._floor_seconds), now)

    def clear(self) -> None:
        """Forget every value and floor."""
        with self._lock:
            self._values.clear()
            self._floors.clear()

    def _recorded_version(self, key: str, now: float) -> int:
        """The highest version a put must not go below: the value's, or an unexpired floor's."""
        recorded = -1
        entry = self._values.get(key)
        if entry is not None and entry.expires_at + self._floor_seconds > now:
            recorded = entry.version
        floor = self._floors.get(key)
        if floor is not None and floor.expires_at > now:
            recorded = max(recorded, floor.version)
        return recorded

    def _drop_value(self, key: str, floor_expires_at: float) -> None:
        """Remove the key's value, keeping its version as a floor until ``floor_expires_at``."""
        entry = self._values.pop(key)
        self._set_floor(key, _Floor(entry.version, floor_expires_at), self._clock())

    def _set_floor(self, key: str, floor: _Floor, now: float) -> None:
        previous = self._floors.pop(key, None)
        if previous is not None and previous.expires_at > now:
            floor = _Floor(
                max(floor.version, previous.version), max(floor.expires_at, previous.expires_at)
            )
        if floor.expires_at <= now:
            return
        self._floors[key] = floor
        # Oldest first: drop expired floors at the front, then the oldest past the bound.
        while self._floors:
            oldest_key, oldest = next(iter(self._floors.items()))
            if oldest.expires_at > now and len(self._floors) <= self._max_entries:
                break
            del self._floors[oldest_key]


class NoCache:
    """The ``Cache`` that keeps nothing: every read misses, every put is refused.

    For an API process whose in-process cache no purge would reach (the reactors run in
    another process and no shared cache is configured): better no cache than a stale one.
    """

    def get(self, key: str) -> Cached | None:
        check_key(key)
        return None

    def put(self, key: str, value: bytes, version: int, ttl_seconds: float) -> bool:
        check_entry(key, version, ttl_seconds)
        return False

    def invalidate(self, keys: Iterable[str], version: int) -> None:
        check_version(version)

    def clear(self) -> None:
        pass
