"""The Meilisearch adapter turns its client's failures into ``Unavailable``."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime

import pytest

from adapters.search import MeiliSearchIndex, SearchDocument
from domain.errors import Unavailable


@pytest.fixture
def unreachable() -> MeiliSearchIndex:
    """An adapter pointed at a local port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return MeiliSearchIndex(f"http://127.0.0.1:{port}", timeout_seconds=2)


def test_a_search_without_a_server_is_unavailable(unreachable):
    with pytest.raises(Unavailable, match="Meilisearch could not search"):
        unreachable.search("여행", limit=5)


def test_an_upsert_without_a_server_is_unavailable(unreachable):
    doc = SearchDocument(
        id=uuid.uuid4(),
        version=1,
        position=1,
        title="여행 성향 테스트",
        description="",
        tags=(),
        thumbnail=None,
        updated_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(Unavailable, match="Meilisearch could not read test"):
        unreachable.upsert(doc)


def test_ensure_without_a_server_is_unavailable(unreachable):
    with pytest.raises(Unavailable, match="Meilisearch could not create the index") as raised:
        unreachable.ensure()

    assert raised.value.__cause__ is not None


@pytest.mark.parametrize("q", ["%", "*", '"', ".*"])
def test_a_query_of_punctuation_only_finds_nothing_without_asking_the_server(unreachable, q):
    assert unreachable.search(q, limit=5) == []
