"""The ``SearchIndex`` port (the Vectorize replacement), its document and hit, and shared rules.

Every adapter answers the same way: a query's terms must all match (in the title, the
description or the tags), hits come newest first (by the log position of the document's last
change, which is unique, so ``after`` — the ``position`` of the previous page's last hit — is
a stable cursor), ``tag`` filters case-insensitively on one whole tag, an empty (or blank) query
lists every indexed document, and a query with text but no term (``%``, ``*``, ``"``: nothing
but punctuation) finds nothing, never everything. Writes are idempotent by document version: an
older version never replaces a newer one, a removal included (a removed document leaves a
tombstone with its version).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from adapters.search.text import query_terms
from domain.errors import InvalidCommand

MAX_LIMIT = 100
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class SearchDocument:
    """What the index holds of one published test, as of ``version`` (log ``position``)."""

    id: UUID
    version: int
    position: int
    title: str
    description: str
    tags: tuple[str, ...]
    thumbnail: str | None  # the object key; the API turns it into a URL
    updated_at: datetime
    # The passage's vector, for an index that ranks by meaning itself (Meilisearch's
    # ``userProvided`` embedder); none where it does not, or no model is loaded.
    vector: tuple[float, ...] | None = None


@dataclass(frozen=True)
class SearchHit:
    """What a list page needs of a matching test; ``position`` is the cursor for the next page."""

    id: UUID
    title: str
    thumbnail: str | None
    tags: tuple[str, ...]
    updated_at: datetime
    position: int


class SearchIndex(Protocol):
    """Published tests, searchable by title, description and tags."""

    def ensure(self) -> None:
        """Make the index ready (create it, apply its settings, check the database); at start."""
        ...

    def upsert(self, doc: SearchDocument) -> None:
        """Index the document unless the index holds the same or a newer version of it."""
        ...

    def remove(self, test_id: UUID, version: int) -> None:
        """Remove the test as of ``version`` unless the index holds the same or a newer version."""
        ...

    def search(
        self, q: str, *, tag: str | None = None, limit: int, after: int | None = None
    ) -> list[SearchHit]:
        """Up to ``limit`` hits matching every term of ``q``, newest first, below ``after``."""
        ...

    def clear(self) -> None:
        """Forget every document and tombstone (tests, and a rebuild from position 0)."""
        ...


class HybridIndex(SearchIndex, Protocol):
    """An index that holds the documents' vectors and ranks keywords and meaning together."""

    embedder: str  # the name its vectors are kept under

    def hybrid_search(
        self, q: str, vector: list[float], *, tag: str | None = None, limit: int
    ) -> list[SearchHit]:
        """Up to ``limit`` hits of ``q`` by keywords and by ``vector`` (the query's), fused."""
        ...


def finds_nothing(q: str) -> bool:
    """Whether ``q`` has text but no term (only punctuation), so it can match no document."""
    return bool(q.strip()) and not query_terms(q)


def check_search(q: str, limit: int, after: int | None) -> None:
    """Refuse a query too long, a limit outside 1..``MAX_LIMIT``, or a negative cursor."""
    if len(q) > MAX_QUERY_LENGTH:
        raise InvalidCommand(f"the query is longer than {MAX_QUERY_LENGTH} characters")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidCommand(f"invalid limit {limit}: use 1 to {MAX_LIMIT}")
    if after is not None and after < 0:
        raise InvalidCommand(f"invalid cursor {after}: a log position is not negative")
