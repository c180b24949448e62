"""``RedisCache``: the cache on Redis (``CHRONICLE_REDIS_URL``), shared by every API process.

Each key is one hash under ``prefix + key``: ``version``, and while a value lives, ``value`` and
``expires`` (milliseconds on the server's clock, so hosts' clocks never disagree). The record
itself outlives the value by ``floor_seconds``, and an invalidation rewrites it as a bare
``version``: that is the floor of ``adapters.cache.port``. Every compare-and-set runs in one Lua
script, so no other client can slip between the version check and the write.

Outage: a read-through cache must never fail the request it was meant to speed up. ``get``
answers a miss and ``put`` stores nothing while Redis cannot be reached (one warning when the
outage starts, one line when it ends), and for ``outage_backoff_seconds`` after a failure they
do not even try, so a black-holed server costs no timeout per request. ``invalidate`` and
``clear`` raise ``Unavailable`` instead: a purge that did not happen must be retried by its
reactor, never reported done. Under Redis's own memory eviction a whole record goes, floor
included: run it with a ``volatile-*`` policy or enough memory.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from adapters.cache.port import (
    DEFAULT_FLOOR_SECONDS,
    Cached,
    check_entry,
    check_floor_seconds,
    check_key,
    check_version,
)
from domain.errors import Unavailable

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "chronicle:cache:"
_INVALIDATE_BATCH = 256
_GLOB_SPECIAL = re.compile(r"([*?\[\]\\])")

# Redis before 5 needs effects replication for TIME in a script; later versions always do it.
_NOW_MS = """
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
"""

_GET = (
    _NOW_MS
    + """
local entry = redis.call('HMGET', KEYS[1], 'value', 'version', 'expires')
if not entry[1] or tonumber(entry[3]) <= now then return false end
return {entry[1], entry[2]}
"""
)

# ARGV: value, version, ttl in ms, floor in ms. Equal versions are stored (same read, or later).
_PUT = (
    _NOW_MS
    + """
local recorded = tonumber(redis.call('HGET', KEYS[1], 'version'))
if recorded and recorded > tonumber(ARGV[2]) then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'version', ARGV[2],
           'expires', string.format('%d', now + ttl))
redis.call('PEXPIRE', KEYS[1], ttl + tonumber(ARGV[4]))
return 1
"""
)

# ARGV: version, floor in ms. A record already newer keeps its version and its remaining life.
_INVALIDATE = """
local version = tonumber(ARGV[1])
local floor_ms = tonumber(ARGV[2])
for _, key in ipairs(KEYS) do
  local floor = version
  local recorded = tonumber(redis.call('HGET', key, 'version'))
  if recorded and recorded > floor then floor = recorded end
  local left = redis.call('PTTL', key)
  redis.call('DEL', key)
  redis.call('HSET', key, 'version', string.format('%d', floor))
  redis.call('PEXPIRE', key, math.max(left, floor_ms))
end
return #KEYS
"""


class RedisCache:
    """The ``Cache`` on Redis: keys under ``prefix``, versions compared and set in Lua."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        floor_seconds: float = DEFAULT_FLOOR_SECONDS,
        timeout_seconds: float = 0.5,
        outage_backoff_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not prefix:
            raise ValueError("RedisCache needs a non-empty key prefix")
        self._prefix = prefix
        self._floor_ms = round(check_floor_seconds(floor_seconds) * 1000)
        self._backoff = outage_backoff_seconds
        self._clock = clock
        # One immediate retry: a pooled connection that died with a Redis restart is reopened.
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 1),
        )
        options = self._client.connection_pool.connection_kwargs
        # Named without the URL's credentials, for messages and logs.
        self._where = f"redis {options.get('host', '?')}:{options.get('port', '?')}"
        self._get = self._client.register_script(_GET)
        self._put = self._client.register_script(_PUT)
        self._invalidate = self._client.register_script(_INVALIDATE)
        self._state = threading.Lock()
        self._down = False
        self._retry_at = 0.0

    def get(self, key: str) -> Cached | None:
        """The live entry under the key, or ``None``; a miss too while Redis cannot answer."""
        check_key(key)
        if self._skipping():
            return None
        try:
            found = self._run("read", lambda: self._get(keys=[self._prefix + key]))
        except Unavailable:
            return None
        if not found:
            return None
        value, version = found
        return Cached(bytes(value), int(version))

    def put(self, key: str, value: bytes, version: int, ttl_seconds: float) -> bool:
        """Store unless a newer version is recorded; ``False`` if refused or Redis cannot answer."""
        check_entry(key, version, ttl_seconds)
        if self._skipping():
            return False
        ttl_ms = max(1, round(ttl_seconds * 1000))
        args: list[bytes | int] = [bytes(value), version, ttl_ms, self._floor_ms]
        try:
            stored = self._run("write", lambda: self._put(keys=[self._prefix + key], args=args))
        except Unavailable:
            return False
        return bool(stored)

    def invalidate(self, keys: Iterable[str], version: int) -> None:
        """Remove the entries, leaving floors of at least ``version``; else ``Unavailable``."""
        check_version(version)
        names = [self._prefix + check_key(key) for key in keys]
        for start in range(0, len(names), _INVALIDATE_BATCH):
            batch = names[start : start + _INVALIDATE_BATCH]
            purge = partial(self._invalidate, keys=batch, args=[version, self._floor_ms])
            self._run("invalidate", purge)

    def clear(self) -> None:
        """Delete every record under this cache's prefix (and no other); ``Unavailable`` if not."""
        pattern = _GLOB_SPECIAL.sub(r"\\\1", self._prefix) + "*"

        def delete_all() -> None:
            batch: list[Any] = []
            for name in self._client.scan_iter(match=pattern, count=500):
                batch.append(name)
                if len(batch) >= 500:
                    self._client.unlink(*batch)
                    batch.clear()
            if batch:
                self._client.unlink(*batch)

        self._run("clear", delete_all)

    def close(self) -> None:
        """Close the connections to Redis."""
        self._client.close()

    def _run(self, action: str, call: Callable[[], Any]) -> Any:
        """Run one Redis call, turning its errors into ``Unavailable`` and tracking outages."""
        try:
            result = call()
        except RedisError as exc:
            self._went_down(exc)
            raise Unavailable(f"the cache at {self._where} could not {action}: {exc}") from exc
        if self._down:
            self._came_back()
        return result

    def _skipping(self) -> bool:
        return self._down and self._clock() < self._retry_at

    def _went_down(self, exc: RedisError) -> None:
        with self._state:
            self._retry_at = self._clock() + self._backoff
            if not self._down:
                self._down = True
                log.warning(
                    "cache %s is unavailable (%s): reads are misses and nothing is cached "
                    "until it answers; invalidations fail and are retried",
                    self._where,
                    exc,
                )

    def _came_back(self) -> None:
        with self._state:
            if self._down:
                self._down = False
                log.info("cache %s answers again", self._where)
