"""The test site's cache: its keys, the read-through reads of the public API, and the purge.

Two kinds of entries live in the ``Cache`` (``adapters.cache``):
- a test's detail under ``detail_key(id)``, versioned by the test's document version;
- list pages under ``tests:list:{generation}:{params}``, versioned by their generation. The
  generation is the ``tests:list-generation`` entry's version: a log position the catalog had
  reached when it was set (from ``catalog_position`` on a miss, or by a purge).

Why a stale read can never be cached again after a purge (``purge`` runs once the catalog has
applied the event at ``position``, which made the test's ``version``):
- detail: ``purge`` invalidates the key at ``version``, leaving a floor; a reader that loaded
  the row before the catalog moved holds an older version, so its late put is refused;
- lists: ``purge`` raises the generation to ``position``. Every reader that reads the new
  generation loads its page afterwards, from a catalog at ``position`` or beyond; a reader that
  read an older generation puts its page under that older generation's key, which nobody reads
  any more. A generation set from ``catalog_position`` is never below a purged one, since a
  purge only runs for a position the catalog has reached.
The detail's guard holds for readers quicker than the cache's floor lifetime (minutes; see
``adapters.cache.port``). Pages of older generations are never read again and expire.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from psycopg_pool import ConnectionPool

from adapters.cache import Cache, Cached
from projections.testcatalog.queries import catalog_position

GENERATION_KEY = "tests:list-generation"
# The generation entry only points at pages: when it lapses, the next reader sets it again
# from the catalog's position (one small query), so its lifetime is a matter of cost alone.
GENERATION_SECONDS = 3600.0


def detail_key(test_id: UUID) -> str:
    """The cache key of a test's public detail."""
    return f"tests:detail:{test_id}"


def list_key(generation: int, params: str) -> str:
    """The cache key of a list page (``params``: its normalised query) in ``generation``."""
    return f"tests:list:{generation}:{params}"


def cached_detail(
    cache: Cache,
    test_id: UUID,
    load: Callable[[], tuple[bytes, int] | None],
    ttl: float,
) -> Cached | None:
    """The cached detail, else ``load()``'s ``(json, version)`` offered to the cache; None: 404.

    ``load`` must read the JSON and its document version together (one row): the version is
    what refuses a late put of an old row. ``None`` (not public) is never cached.
    """
    key = detail_key(test_id)
    hit = cache.get(key)
    if hit is not None:
        return hit
    loaded = load()
    if loaded is None:
        return None
    value, version = loaded
    cache.put(key, value, version, ttl)
    return Cached(value, version)


def cached_list(
    cache: Cache, pool: ConnectionPool, params: str, load: Callable[[], bytes], ttl: float
) -> bytes:
    """The cached list page for ``params`` in the current generation, else ``load()``'s JSON."""
    generation = list_generation(cache, pool)
    key = list_key(generation, params)
    hit = cache.get(key)
    if hit is not None:
        return hit.value
    value = load()
    cache.put(key, value, generation, ttl)
    return value


def list_generation(cache: Cache, pool: ConnectionPool) -> int:
    """The current list generation; on a miss, the catalog's position, offered to the cache.

    A put refused here lost to a purge that raised the generation meanwhile: this reader's
    pages then go under its own older generation, which nobody reads, so it keeps it.
    """
    hit = cache.get(GENERATION_KEY)
    if hit is not None:
        return hit.version
    generation = catalog_position(pool)
    cache.put(GENERATION_KEY, str(generation).encode(), generation, GENERATION_SECONDS)
    return generation


def purge(cache: Cache, test_id: UUID, version: int, position: int) -> None:
    """Drop the test's detail below ``version`` and raise the list generation to ``position``.

    Call it only once the catalog has applied the event at ``position``. Raises
    ``Unavailable`` when the cache cannot be reached, so that its reactor retries.
    """
    cache.invalidate([detail_key(test_id)], version)
    if not cache.put(GENERATION_KEY, str(position).encode(), position, GENERATION_SECONDS):
        # Refused: the generation is already higher (a retried letter), or the cache could not
        # be reached (RedisCache.put answers False then). Invalidating raises in the second
        # case and leaves a floor of at least ``position`` in both, so the next reader sets the
        # generation from the catalog, never below ``position``.
        cache.invalidate([GENERATION_KEY], position)
