"""Search (the Vectorize replacement): the ``SearchIndex`` port and its adapters."""

from adapters.search.meili import MeiliSearchIndex
from adapters.search.port import SearchDocument, SearchHit, SearchIndex
from adapters.search.postgres import PostgresSearchIndex

__all__ = [
    "MeiliSearchIndex",
    "PostgresSearchIndex",
    "SearchDocument",
    "SearchHit",
    "SearchIndex",
]
