"""Which adapter each port gets, from settings: the outside services when they are configured,
else what runs in this process or beside the events."""

from __future__ import annotations

import logging
from typing import Any

from psycopg_pool import ConnectionPool
from pydantic import SecretStr

from adapters.assistant import OpenAIAssistant
from adapters.cache import Cache, InMemoryCache, NoCache, RedisCache
from adapters.cdn import CdnPurger, HttpCdnPurger
from adapters.embeddings import EmbedderSlot
from adapters.search import MeiliSearchIndex, PostgresSearchIndex, SearchIndex
from adapters.storage import LocalObjectStore, ObjectStore, S3ObjectStore
from api.settings import Settings
from domain.errors import Unavailable

log = logging.getLogger(__name__)


def embedder_slot(settings: Settings) -> EmbedderSlot:
    """The configured embedding model, loaded on first use."""
    return EmbedderSlot(settings.embedding_model, settings.embedding_dimension)


def cdn_purger(settings: Settings) -> CdnPurger | None:
    """The CDN purge endpoint when one is configured, else none (no CDN is purged)."""
    if not settings.cdn_purge_url:
        return None
    return HttpCdnPurger(settings.cdn_purge_url, _reveal(settings.cdn_purge_token))


def build_assistant(settings: Settings) -> OpenAIAssistant | None:
    """The assistant when its API is configured, else none (the rooms say there is none)."""
    if not settings.assistant_base_url or not settings.assistant_model:
        return None
    return OpenAIAssistant(
        settings.assistant_base_url,
        model=settings.assistant_model,
        api_key=_reveal(settings.assistant_api_key),
        timeout_seconds=settings.assistant_timeout_seconds,
        max_attempts=settings.assistant_max_attempts,
    )


def build_object_store(settings: Settings, secret: str) -> ObjectStore:
    """The S3 store when a bucket is configured, else files under ``storage_dir``.

    ``secret`` signs the local store's upload URLs; S3 signs its own.
    """
    if settings.s3_bucket:
        return S3ObjectStore(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=_reveal(settings.s3_access_key_id),
            secret_access_key=_reveal(settings.s3_secret_access_key),
            path_style=settings.s3_path_style,
        )
    root = settings.storage_dir or settings.data_dir / "objects"
    return LocalObjectStore(root, settings.public_base_url, secret)


def search_index(settings: Settings, reads: ConnectionPool[Any]) -> SearchIndex:
    """Meilisearch when its URL is configured, else the PostgreSQL index beside the events."""
    if settings.meilisearch_url:
        return MeiliSearchIndex(
            settings.meilisearch_url,
            _reveal(settings.meilisearch_api_key),
            index_uid=settings.meilisearch_index,
            embedding_dimension=(
                settings.embedding_dimension if settings.embedding_model != "none" else None
            ),
        )
    return PostgresSearchIndex(reads)


def ensure_search(search: SearchIndex) -> None:
    """Prepare the index; one that cannot be reached yet is prepared by the next start.

    Its reactor retries every write meanwhile, and searches answer 503, so starting is safe.
    """
    try:
        search.ensure()
    except Unavailable as exc:
        log.warning("the search index is not ready: %s", exc.message)


def build_cache(settings: Settings, *, purged_here: bool = True) -> Cache:
    """Redis when its URL is configured, else a cache in this process if its purges run here.

    An API process without the reactors (``chronicle api``) would never see a purge of an
    in-process cache: it caches nothing rather than serve old versions for the cache's ttl.
    """
    if settings.redis_url:
        return RedisCache(settings.redis_url, prefix=settings.redis_prefix)
    if not purged_here:
        log.warning(
            "no CHRONICLE_REDIS_URL and no reactors in this process: test reads are "
            "not cached (set Redis to share one cache between processes)"
        )
        return NoCache()
    return InMemoryCache()


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None
