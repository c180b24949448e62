"""Cache (the KV replacement): the ``Cache`` port, in-process by default, Redis when configured."""

from adapters.cache.memory import InMemoryCache, NoCache
from adapters.cache.port import DEFAULT_FLOOR_SECONDS, Cache, Cached, read_through
from adapters.cache.redis import RedisCache

__all__ = [
    "DEFAULT_FLOOR_SECONDS",
    "Cache",
    "Cached",
    "InMemoryCache",
    "NoCache",
    "RedisCache",
    "read_through",
]
