"""The ``Cache`` port (the KV replacement): versioned query results that never go back in time.

Every entry carries a ``version``: an integer that only grows per key, read *with* the value,
in the same transaction (a document's version, or the position the catalog had reached when
the value was read). ``put`` refuses a version older than the one recorded for the key, and
``invalidate`` leaves that record behind as a floor (a tombstone with the invalidated version,
kept ``floor_seconds``) after it removes the value. That floor closes the stale-read race:

    reader:       reads the catalog at version 1 ............ put(key, v1) -> refused (1 < 2)
    projection:                    applies the event: catalog at version 2
    invalidator:                                   invalidate([key], 2): value gone, floor 2

Without the floor the reader's put would land after the purge and serve version 1 until its
ttl ran out. A put at the floor's own version is stored: it was read after the catalog moved.
What the floor does not cover: a reader slower than ``floor_seconds`` between its read and its
put (keep the floor far above any read's duration), and an invalidation that has not run yet
(the purge reactor retries it; until then the old entry is served, at most for its ttl).

Adapters: ``InMemoryCache`` (one process, the default) and ``RedisCache``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import NamedTuple, Protocol

#: How long an invalidation's floor outlives the purge, unless an adapter is told otherwise.
DEFAULT_FLOOR_SECONDS = 300.0
# Redis scripts compare versions as Lua numbers (doubles): exact below 2**53.
MAX_VERSION = 2**53 - 1


class Cached(NamedTuple):
    """A cache hit: the stored bytes and the version they were read at."""

    value: bytes
    version: int


class Cache(Protocol):
    """Query results by string key, each with a version that a put can never lower."""

    def get(self, key: str) -> Cached | None:
        """The live entry under the key, or ``None`` (never stored, expired or invalidated)."""
        ...

    def put(self, key: str, value: bytes, version: int, ttl_seconds: float) -> bool:
        """Store for ``ttl_seconds`` unless a newer version is recorded; ``True`` if stored.

        A refusal is a normal outcome (a reader lost the race to a newer write), not an error.
        """
        ...

    def invalidate(self, keys: Iterable[str], version: int) -> None:
        """Remove the keys' entries and leave a floor: no put below ``version`` is stored after it.

        Raises ``Unavailable`` when the cache cannot be reached, so a purge is retried.
        """
        ...

    def clear(self) -> None:
        """Forget every entry and floor of this cache (tests)."""
        ...


def read_through(
    cache: Cache, key: str, load: Callable[[], tuple[bytes, int]], ttl_seconds: float
) -> Cached:
    """The cached entry, or ``load()``'s ``(value, version)``, offered to the cache on the way out.

    ``load`` must read the value and its version together (one transaction): the version is
    what makes a late put of an old value harmless.
    """
    hit = cache.get(key)
    if hit is not None:
        return hit
    value, version = load()
    cache.put(key, value, version, ttl_seconds)
    return Cached(value, version)


def check_entry(key: str, version: int, ttl_seconds: float | None = None) -> None:
    """Raise ``ValueError`` for an empty key, a version outside 0..2**53-1 or a ttl not above 0.

    These come from code, never from a caller, so they are programming errors.
    """
    check_key(key)
    check_version(version)
    if ttl_seconds is not None and not (ttl_seconds > 0 and math.isfinite(ttl_seconds)):
        raise ValueError(f"cache ttl must be a positive number of seconds, not {ttl_seconds!r}")


def check_key(key: str) -> str:
    """Return the key when it is a non-empty string, else raise ``ValueError``."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"cache key must be a non-empty string, not {key!r}")
    return key


def check_version(version: int) -> int:
    """Return the version when it is an integer in 0..2**53-1, else raise ``ValueError``."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise ValueError(f"cache version must be an integer, not {version!r}")
    if not 0 <= version <= MAX_VERSION:
        raise ValueError(f"cache version {version} is outside 0..{MAX_VERSION}")
    return version


def check_floor_seconds(floor_seconds: float) -> float:
    """Return the floor's lifetime when it is a positive number of seconds."""
    if not (floor_seconds > 0 and math.isfinite(floor_seconds)):
        raise ValueError(f"floor_seconds must be a positive number, not {floor_seconds!r}")
    return floor_seconds
