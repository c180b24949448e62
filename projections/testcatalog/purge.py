"""The cache purge reactor: after the catalog applied a test's event, purge what served it.

For each TestDocument event at log ``position`` it:
1. waits until the ``test_catalog`` projection has reached ``position`` (purging earlier would
   let a reader cache the old row again right after the purge); if the catalog is not there
   in time it raises ``Unavailable``, so the runner pauses and tries again, never parks;
2. purges the server cache (``projections.testcatalog.cache.purge``: the test's detail below the
   event's version, the list pages below the new generation);
3. when a CDN is configured, purges the public URLs ``{base_url}/api/tests/{id}`` and
   ``{base_url}/api/tests``. A purge by URL drops that exact URL only: list pages with query
   parameters (a tag, a cursor) are not purged there, so they live at most their own
   ``s-maxage`` at the CDN; the bare list URL, the one every visitor starts from, is.

Every step is idempotent, so a repeated delivery only purges again. The CDN's refusal (a 4xx
but 429) is retried and then parked; its outage (429, 5xx, unreachable) pauses the reactor.
"""

from __future__ import annotations

from typing import Any

from adapters.cache import Cache
from adapters.cdn import CdnPurger
from domain.errors import Unavailable
from domain.testdocument import TestDocument
from projections.engine.watcher import LogWatcher
from projections.testcatalog.cache import purge

CATALOG = "test_catalog"


class TestCachePurge:
    """Purges a test's cached detail, the cached lists and, if configured, the CDN's copies."""

    __test__ = False  # not a test class, whatever pytest thinks of the name
    name = "test_cache_purge"

    def __init__(
        self,
        cache: Cache,
        watcher: LogWatcher,
        *,
        cdn: CdnPurger | None = None,
        base_url: str = "",
        catalog_timeout: float = 5.0,
    ) -> None:
        self._cache = cache
        self._watcher = watcher
        self._cdn = cdn
        self._base_url = base_url.rstrip("/")
        self._catalog_timeout = catalog_timeout

    def handles(self, event: Any) -> bool:
        return isinstance(event, TestDocument.Event)

    def react(self, event: Any, position: int) -> None:
        if not self._watcher.wait_for_position([CATALOG], position, self._catalog_timeout):
            raise Unavailable(
                f"{CATALOG} has not reached log position {position} within "
                f"{self._catalog_timeout:g}s: the cache is purged once it has"
            )
        test_id = event.originator_id
        purge(self._cache, test_id, event.originator_version, position)
        if self._cdn is not None:
            self._cdn.purge(public_urls(self._base_url, test_id))


def public_urls(base_url: str, test_id: Any) -> list[str]:
    """The public URLs that serve the test: its detail and the first page of the list."""
    return [f"{base_url}/api/tests/{test_id}", f"{base_url}/api/tests"]
