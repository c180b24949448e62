"""``MeiliSearchIndex``: the search index on a Meilisearch server, through the official client.

``ensure`` creates the index and applies its settings (searchable title, tags, description;
filterable ``listed``, ``tag_keys``, ``position``; sortable ``position`` and ``updated_at``;
``sort`` as the first ranking rule, so hits come newest first as on every adapter; typo
tolerance from 5 characters, two typos from 9; given the embedding dimension, a
``userProvided`` embedder ``chronicle``, whose vectors come with the documents, so that
``hybrid_search`` is Meilisearch's own hybrid search), and every write waits on its task, so
a caller that saw ``upsert`` return can find the document. Meilisearch has no conditional write: the
stored version is read first and whole documents (version and position included) replace it,
a removal leaving a tombstone. That is only safe with one writer: the search reactor, active
in one process at a time (advisory lock), is the only caller of ``upsert`` and ``remove``.
Korean is tokenised by Meilisearch's ko-dic: prefix search only, no typo tolerance under 5
characters. The client's errors become ``Unavailable`` (``raise ... from exc``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from meilisearch import Client
from meilisearch.errors import MeilisearchApiError, MeilisearchError

from adapters.search.port import SearchDocument, SearchHit, check_search, finds_nothing
from adapters.search.text import query_terms, tag_key
from domain.errors import Unavailable

SETTINGS: dict[str, Any] = {
    "searchableAttributes": ["title", "tags", "description"],
    "filterableAttributes": ["listed", "tag_keys", "position"],
    "sortableAttributes": ["position", "updated_at"],
    "rankingRules": ["sort", "words", "typo", "proximity", "attribute", "exactness"],
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
}
HIT_FIELDS = ["id", "title", "thumbnail", "tags", "updated_at", "position"]
EMBEDDER = "chronicle"  # the userProvided embedder the documents' vectors are sent under
SEMANTIC_RATIO = 0.5  # Meilisearch's hybrid search: keywords and meaning weigh the same


class MeiliSearchIndex:
    """Published tests in one Meilisearch index (``tests`` unless named otherwise)."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        index_uid: str = "tests",
        timeout_seconds: int = 10,
        task_timeout_seconds: float = 30.0,
        embedding_dimension: int | None = None,
    ) -> None:
        self._client = Client(url, api_key, timeout=timeout_seconds)
        self._uid = index_uid
        self._index = self._client.index(index_uid)
        self._task_timeout_ms = int(task_timeout_seconds * 1000)
        self.embedder = EMBEDDER
        self._dimension = embedding_dimension

    def ensure(self) -> None:
        """Create the index if missing and apply ``SETTINGS``, waiting for both."""
        with self._translated("create the index"):
            task = self._client.create_index(self._uid, {"primaryKey": "id"})
            done = self._client.wait_for_task(task.task_uid, timeout_in_ms=self._task_timeout_ms)
        exists = (done.error or {}).get("code") == "index_already_exists"
        if done.status != "succeeded" and not exists:
            raise Unavailable(f"Meilisearch could not create index {self._uid}: {done.error}")
        wanted = settings(self._dimension)
        self._wait(lambda: self._index.update_settings(wanted), "apply the index settings")

    def upsert(self, doc: SearchDocument) -> None:
        """Replace the stored document unless it is the same or a newer version."""
        if self._stored_version(doc.id) >= doc.version:
            return
        self._wait(lambda: self._index.add_documents([document(doc)], "id"), "index a test")

    def remove(self, test_id: UUID, version: int) -> None:
        """Replace the stored document by a tombstone unless it is the same or a newer version."""
        if self._stored_version(test_id) >= version:
            return
        self._wait(lambda: self._index.add_documents([tombstone(test_id, version)], "id"), "remove")

    def search(
        self, q: str, *, tag: str | None = None, limit: int, after: int | None = None
    ) -> list[SearchHit]:
        """Listed documents matching every term of ``q`` (and the tag), newest first."""
        check_search(q, limit, after)
        if finds_nothing(q):
            return []
        with self._translated("search"):
            found = self._index.search(
                " ".join(query_terms(q)), search_params(tag=tag, limit=limit, after=after)
            )
        return [hit(raw) for raw in found["hits"]]

    def hybrid_search(
        self, q: str, vector: list[float], *, tag: str | None = None, limit: int
    ) -> list[SearchHit]:
        """Meilisearch's own hybrid search: keywords and the query's ``vector``, by relevance."""
        check_search(q, limit, None)
        if finds_nothing(q):
            return []
        params = search_params(tag=tag, limit=limit, after=None)
        del params["sort"]  # by relevance, not newest first
        params["hybrid"] = {"embedder": EMBEDDER, "semanticRatio": SEMANTIC_RATIO}
        params["vector"] = vector
        params["matchingStrategy"] = "last"  # meaning finds what shares no word
        with self._translated("search"):
            found = self._index.search(" ".join(query_terms(q)), params)
        return [hit(raw) for raw in found["hits"]]

    def clear(self) -> None:
        """Delete every document and tombstone of the index."""
        self._wait(self._index.delete_all_documents, "clear the index")

    def _stored_version(self, test_id: UUID) -> int:
        try:
            stored = self._index.get_document(str(test_id), {"fields": ["version"]})
        except MeilisearchApiError as exc:
            if exc.code == "document_not_found":
                return 0
            raise Unavailable(f"Meilisearch could not read test {test_id}: {exc.message}") from exc
        except MeilisearchError as exc:
            raise Unavailable(f"Meilisearch could not read test {test_id}: {exc}") from exc
        return int(stored.version)

    def _wait(self, enqueue: Any, what: str) -> None:
        with self._translated(what):
            task = self._client.wait_for_task(
                enqueue().task_uid, timeout_in_ms=self._task_timeout_ms
            )
        if task.status != "succeeded":
            raise Unavailable(f"Meilisearch could not {what}: {task.status} {task.error}")

    @contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        try:
            yield
        except MeilisearchError as exc:
            raise Unavailable(f"Meilisearch could not {what}: {exc}") from exc


def settings(dimension: int | None) -> dict[str, Any]:
    """``SETTINGS``, with the ``userProvided`` embedder of ``dimension`` vectors if any."""
    if dimension is None:
        return SETTINGS
    embedder = {"source": "userProvided", "dimensions": dimension}
    return {**SETTINGS, "embedders": {EMBEDDER: embedder}}


def document(doc: SearchDocument) -> dict[str, Any]:
    """The whole Meilisearch document of ``doc`` (it replaces any stored one), vector included."""
    vectors = {"_vectors": {EMBEDDER: list(doc.vector) if doc.vector is not None else None}}
    return vectors | {
        "id": str(doc.id),
        "version": doc.version,
        "position": doc.position,
        "listed": True,
        "title": doc.title,
        "description": doc.description,
        "tags": list(doc.tags),
        "tag_keys": sorted({tag_key(t) for t in doc.tags}),
        "thumbnail": doc.thumbnail,
        "updated_at": doc.updated_at.isoformat(),
    }


def tombstone(test_id: UUID, version: int) -> dict[str, Any]:
    """The document that stands for a test removed at ``version``: unlisted, with no text."""
    return {
        "id": str(test_id),
        "version": version,
        "listed": False,
        "tags": [],
        "tag_keys": [],
        "_vectors": {EMBEDDER: None},
    }


def search_params(*, tag: str | None, limit: int, after: int | None) -> dict[str, Any]:
    """The search parameters: every term must match, listed only, newest first."""
    filters = ["listed = true"]
    if tag is not None:
        filters.append(f"tag_keys = {json.dumps(tag_key(tag), ensure_ascii=False)}")
    if after is not None:
        filters.append(f"position < {int(after)}")
    return {
        "filter": filters,
        "sort": ["position:desc"],
        "limit": limit,
        "matchingStrategy": "all",
        "attributesToRetrieve": HIT_FIELDS,
    }


def hit(raw: dict[str, Any]) -> SearchHit:
    """A ``SearchHit`` from a Meilisearch hit."""
    return SearchHit(
        id=UUID(raw["id"]),
        title=raw["title"],
        thumbnail=raw.get("thumbnail"),
        tags=tuple(raw["tags"]),
        updated_at=datetime.fromisoformat(raw["updated_at"]),
        position=int(raw["position"]),
    )
