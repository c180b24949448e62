"""The search index reactor: keeps the ``SearchIndex`` equal to the published tests.

For each TestDocument event it loads the test as of that event's version (not the latest: a
delivery repeated or retried later must write what that event made) and indexes it when it
is published and not deleted, else removes it at that version. The adapters refuse a version
older than the one they hold (a removal leaves a tombstone), so a repeated or late delivery
never lets an older state win, and the reactor is idempotent. A failing index is retried and
then parked by the runner; the test's later events wait behind the parked one. An index that
ranks by meaning itself (Meilisearch's hybrid search) gets each document's vector with it.
"""

from __future__ import annotations

from typing import Any

from adapters.embeddings import EmbedderSlot
from adapters.embeddings.passage import embedded_text
from adapters.search import SearchDocument, SearchIndex
from domain.testdocument import TestDocument


class TestSearchIndexer:
    """Indexes published tests, and removes the others, as of each event's version."""

    __test__ = False  # not a test class, whatever pytest thinks of the name
    name = "test_search"

    def __init__(
        self, event_store: Any, search: SearchIndex, embedder: EmbedderSlot | None = None
    ) -> None:
        self._event_store = event_store
        self._search = search
        # An index that ranks by meaning itself (Meilisearch) takes each document's vector.
        self._embedder = embedder if hasattr(search, "hybrid_search") else None

    def handles(self, event: Any) -> bool:
        return isinstance(event, TestDocument.Event)

    def react(self, event: Any, position: int) -> None:
        version = event.originator_version
        test: TestDocument = self._event_store.repository.get(event.originator_id, version=version)
        if not test.published or test.deleted:
            self._search.remove(test.id, version)
            return
        document = test.document
        self._search.upsert(
            SearchDocument(
                id=test.id,
                version=version,
                position=position,
                title=document["title"],
                description=document.get("description", ""),
                tags=tuple(document.get("tags", ())),
                thumbnail=document.get("thumbnail"),
                updated_at=event.timestamp,
                vector=self._vector(document),
            )
        )

    def _vector(self, document: dict[str, Any]) -> tuple[float, ...] | None:
        if self._embedder is None or not self._embedder.available:
            return None
        return tuple(self._embedder.get().embed_passages([embedded_text(document)])[0])
