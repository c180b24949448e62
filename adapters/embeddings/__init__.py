"""Meaning search (the Vectorize replacement): the ``Embedder`` port and its offline model."""

from adapters.embeddings.models import MODELS, EmbedderSlot
from adapters.embeddings.port import Embedder, EmbedderUnavailable
from adapters.embeddings.use import UseEmbedder

__all__ = ["MODELS", "Embedder", "EmbedderSlot", "EmbedderUnavailable", "UseEmbedder"]
