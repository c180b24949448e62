"""Meaning search (the Vectorize replacement): the ``Embedder`` port and its offline model."""

from adapters.embeddings.port import Embedder, EmbedderUnavailable
from adapters.embeddings.use import UseEmbedder

__all__ = ["Embedder", "EmbedderUnavailable", "UseEmbedder"]
