"""Helpers for meaning search on real PostgreSQL: an embedder that counts, and can fail."""

from __future__ import annotations

import functools
import threading
from collections import Counter
from typing import Any

import psycopg

from adapters.embeddings import EmbedderSlot, UseEmbedder

MODEL = "use-multilingual-v3"


@functools.cache
def use() -> UseEmbedder:
    """The real model, loaded once per test session."""
    return UseEmbedder()


class CountingEmbedder:
    """The real model, counting each call's texts; a text containing ``broken`` fails."""

    dimension = 512

    def __init__(self, name: str = MODEL) -> None:
        self.name = name
        self.batches: list[int] = []
        self.texts: Counter[str] = Counter()
        self.queries: Counter[str] = Counter()
        self.broken: set[str] = set()
        self._lock = threading.Lock()

    def embed_passages(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            for text in texts:
                if any(word in text for word in self.broken):
                    raise RuntimeError(f"the model refused {text.splitlines()[0]!r}")
            self.batches.append(len(texts))
            self.texts.update(texts)
        return use().embed_passages(texts)

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            self.queries[text] += 1
        return use().embed_query(text)


def slot(embedder: CountingEmbedder, model: str = MODEL) -> EmbedderSlot:
    return EmbedderSlot(model, 512, factory=lambda: embedder)


def has_pgvector(dsn: str) -> bool:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')")
        return bool(row.fetchone()[0])  # type: ignore[index]


def rows(dsn: str, model: str = MODEL) -> dict[Any, tuple[int, bool]]:
    """Each test's (version, listed) in ``test_embeddings`` under ``model``."""
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT test_id, version, listed FROM test_embeddings WHERE model = %s", (model,)
        ).fetchall()
    return {r[0]: (r[1], r[2]) for r in found}
