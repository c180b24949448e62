"""What the Meilisearch adapter sends for meaning search (no server: the payloads only)."""

import uuid
from datetime import UTC, datetime

from adapters.search import SearchDocument
from adapters.search.meili import EMBEDDER, SETTINGS, document, settings, tombstone


def test_the_settings_name_a_user_provided_embedder_of_the_configured_dimension():
    assert settings(512)["embedders"] == {EMBEDDER: {"source": "userProvided", "dimensions": 512}}


def test_without_a_dimension_the_settings_have_no_embedder():
    assert settings(None) == SETTINGS


def test_a_document_carries_its_vector_and_a_tombstone_none():
    doc = SearchDocument(
        uuid.uuid4(), 2, 7, "여행", "", (), None, datetime(2025, 1, 1, tzinfo=UTC), (0.6, 0.8)
    )

    assert document(doc)["_vectors"] == {EMBEDDER: [0.6, 0.8]}
    assert tombstone(doc.id, 3)["_vectors"] == {EMBEDDER: None}
