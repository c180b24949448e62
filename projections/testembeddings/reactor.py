"""The embeddings reactor: keeps ``test_embeddings`` equal to the published tests' meaning.

For each TestDocument event it loads the test as of that event's version (a repeated or late
delivery writes what that event made) and, when the test is published and not deleted, embeds
its passage (``adapters.embeddings.passage``: title, description, tags, result titles) unless
the row of the same text is there, then only its version moves: a change of a question or an
image embeds nothing. Otherwise it leaves a tombstone at that version. The store refuses an
older version than the one it holds, so repeated and out-of-order deliveries change nothing.

The runner hands it each batch of events first (``prepare``): the texts to embed are embedded
together, one call of the model, and ``react`` takes their vectors. Without a model (the extra
``chronicle[semantic]`` missing, or ``CHRONICLE_EMBEDDING_MODEL=none``) it handles nothing, so
its position still follows the log.
"""

from __future__ import annotations

import hashlib
from typing import Any

from adapters.embeddings import EmbedderSlot
from adapters.embeddings.passage import embedded_text
from adapters.search.text import tag_key
from domain.testdocument import TestDocument
from projections.testembeddings.store import NAME, EmbeddedTest, EmbeddingStore

PREPARED_MAX = 1000  # vectors kept from one batch; a batch is at most the reactor batch size


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class TestEmbeddingIndexer:
    """Embeds published tests, and removes the others, as of each event's version."""

    __test__ = False  # not a test class, whatever pytest thinks of the name
    name = NAME

    def __init__(self, event_store: Any, store: EmbeddingStore, embedder: EmbedderSlot) -> None:
        self._event_store = event_store
        self._store = store
        self._slot = embedder
        self._prepared: dict[str, list[float]] = {}

    def handles(self, event: Any) -> bool:
        # A model that cannot load (the extra missing) handles nothing: no event is parked for
        # it, and the position follows the log. Loaded once, on the reactor's thread.
        return isinstance(event, TestDocument.Event) and self._slot.available

    def prepare(self, events: list[tuple[Any, int]]) -> None:
        """Embed, in one call, the texts of the published tests among ``events`` (a batch)."""
        self._prepared.clear()
        texts: dict[str, str] = {}
        for event, _ in events:
            test = self._at(event)
            if test.published and not test.deleted:
                text = embedded_text(test.document)
                texts.setdefault(sha256(text), text)
        # A text already embedded (an edit of a question, a repeated delivery) is not again.
        ids = list({event.originator_id for event, _ in events})
        for digest in self._store.stored_texts(self._slot.model, ids):
            texts.pop(digest, None)
        if len(texts) < 2 or len(texts) > PREPARED_MAX:
            return  # one text is embedded by ``react`` as well
        vectors = self._slot.get().embed_passages(list(texts.values()))
        self._prepared = dict(zip(texts, vectors, strict=True))

    def react(self, event: Any, position: int) -> None:
        model = self._slot.model
        test = self._at(event)
        version = event.originator_version
        if not test.published or test.deleted:
            self._store.remove(model, self._slot.dimension, test.id, version)
            return
        document = test.document
        text = embedded_text(document)
        tags = tuple(document.get("tags", ()))
        row = EmbeddedTest(
            test_id=test.id,
            version=version,
            position=position,
            text_sha256=sha256(text),
            title=document["title"],
            tags=tags,
            tag_keys=tuple(sorted({tag_key(t) for t in tags})),
            thumbnail=document.get("thumbnail"),
            updated_at=event.timestamp,
        )
        if self._store.refresh(model, row) or self._store.version_of(model, test.id) >= version:
            return
        vector = self._prepared.get(row.text_sha256)
        if vector is None:
            vector = self._slot.get().embed_passages([text])[0]
        self._store.write(model, row, vector)

    def _at(self, event: Any) -> TestDocument:
        return self._event_store.repository.get(
            event.originator_id, version=event.originator_version
        )
