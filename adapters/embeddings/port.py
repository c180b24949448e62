"""The ``Embedder`` port (meaning search, the Vectorize replacement): texts to unit vectors.

Vectors are L2-normalised, so a dot product is the cosine. Rank by it; do not compare it with a
fixed threshold, because how spread out the cosines are depends on the model. Vectors from
embedders of different ``name`` live in different spaces and must never be compared.
"""

from __future__ import annotations

from typing import Protocol


class EmbedderUnavailable(RuntimeError):
    """The model cannot be loaded: its package is missing, of another version, or altered."""


class Embedder(Protocol):
    """Turns texts into unit vectors whose dot products rank them by meaning."""

    name: str  # names the vector space: stored vectors of another name must be re-embedded
    dimension: int

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        """One unit vector per text, in order, embedded as one batch."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """The unit vector of one search query."""
        ...
