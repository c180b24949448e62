"""Search (the Vectorize replacement): the ``SearchIndex`` port and its adapters."""

from adapters.search.meili import MeiliSearchIndex
from adapters.search.port import HybridIndex, SearchDocument, SearchHit, SearchIndex
from adapters.search.postgres import PostgresSearchIndex

__all__ = [
    "HybridIndex",
    "MeiliSearchIndex",
    "PostgresSearchIndex",
    "SearchDocument",
    "SearchHit",
    "SearchIndex",
]
