"""Search by keywords, by meaning, or both fused (``TestMeaning``), and similar tests.

Hybrid search takes up to ``WINDOW`` keyword hits (the ``SearchIndex``: every term must match,
newest first) and the ``SEMANTIC_HITS`` tests nearest in meaning, and merges them by reciprocal
rank fusion: each test scores the sum of ``1 / (RRF_K + rank)`` over the lists it is in
(``RRF_K = 60``, the value of Cormack et al., which damps the difference between the first
ranks), so a test found both ways comes before one found once. A test whose title is the
query (same terms) ranks first whatever the fusion says. Ties go to the newer change, then the
id, so the ranking of an unchanged index is always the same and pages by offset are stable.

Hybrid is the default where meaning search can run: the model loads here, and its vectors are
complete (``serving_model``). Where it cannot, hybrid answers by keywords and says why
(``Ranking.note``); ``mode=semantic`` is refused (``MeaningSearchUnavailable``, 409) naming
the reason, such as the missing extra ``chronicle[semantic]``. With Meilisearch as the keyword
index, which holds the vectors too, its own hybrid search answers (method ``meilisearch``).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

from adapters.embeddings import EmbedderSlot
from adapters.search import SearchHit, SearchIndex
from adapters.search.port import check_search, finds_nothing
from adapters.search.text import body
from domain.errors import MeaningSearchUnavailable
from projections.testembeddings import queries
from projections.testembeddings.similar import CentredVectors, LanguageMeans, similar_tests
from projections.testembeddings.store import IN_PROCESS, Model, method_of, serving_model

log = logging.getLogger(__name__)

KEYWORD, SEMANTIC, HYBRID = "keyword", "semantic", "hybrid"
MEILISEARCH = "meilisearch"  # the method where the keyword index ranks vectors itself
RRF_K = 60
WINDOW = 100  # the furthest a hybrid or semantic search pages
SEMANTIC_HITS = 20  # meaning hits fused into a hybrid answer (meaning ranks, it never excludes)
QUERY_VECTORS = 1024  # queries whose vectors are remembered (2 KiB each): a repeat is not embedded


@dataclass(frozen=True)
class Ranking:
    """A ranked answer: its hits, which modes contributed, how vectors were ranked, and why not."""

    hits: list[SearchHit]
    modes: tuple[str, ...]
    method: str | None = None
    model: str | None = None
    note: str | None = None


class TestMeaning:
    """Meaning search and similar tests over ``test_embeddings``, beside the keyword index."""

    __test__ = False

    def __init__(self, pool: ConnectionPool[Any], embedder: EmbedderSlot) -> None:
        self._pool = pool
        self._slot = embedder
        self._method: str | None = None
        self._vectors = queries.VectorCache()  # in process only (no pgvector)
        self._centred = CentredVectors(self._vectors)  # similar tests, in process
        self._means = LanguageMeans()  # similar tests, with pgvector
        # The query's vector, remembered: the slot's model never changes in a process, so a
        # query asked again (a popular search, the next page) is not embedded again.
        self.query_vector = functools.lru_cache(maxsize=QUERY_VECTORS)(self._embed_query)

    @property
    def embedder(self) -> EmbedderSlot:
        """The model queries are embedded with (and, where the reactors run, the tests)."""
        return self._slot

    @property
    def method(self) -> str:
        """``pgvector`` (the database ranks) or ``in-process`` (``real[]``, ranked here)."""
        if self._method is None:
            with self._pool.connection() as conn:
                self._method = method_of(conn)
        return self._method

    def describe(self) -> str:
        """One line for the start-up log: which method ranks, which model embeds."""
        if self.method == IN_PROCESS:
            limit = queries.IN_PROCESS_MAX
            how = f"in-process (real[], no `vector` extension; up to {limit} tests)"
        else:
            how = "pgvector (HNSW cosine index)"
        model = self._slot.model if self._slot.configured else "off"
        return f"meaning search: {how}, model {model}"

    def serving(self) -> Model | None:
        """The model whose vectors answer now, if any is complete."""
        with self._pool.connection() as conn:
            return serving_model(conn)

    def has_vector(self, test_id: UUID) -> bool:
        """Whether the test has a vector of the serving model (it can be similar to others)."""
        model = self.serving()
        return model is not None and queries.vector_of(self._pool, model, test_id) is not None

    def _why_not(self, model: Model | None) -> str | None:
        """Why a query cannot be ranked by meaning with ``model`` serving; none when it can."""
        reason = self._slot.reason()
        if reason:
            return reason
        if model is None:
            return f"the tests are still being embedded with {self._slot.model}"
        if model.name != self._slot.model:
            return (
                f"the tests are being embedded again with {self._slot.model}; the vectors of "
                f"{model.name} cannot rank a query embedded by it"
            )
        return None

    def search(self, q: str, *, mode: str | None, keyword: SearchIndex, tag: str | None) -> Ranking:
        """The whole ranking of ``q`` (up to ``WINDOW``) in ``mode`` (none: hybrid if it can)."""
        check_search(q, 1, None)
        if finds_nothing(q):
            return Ranking([], ())
        model = self.serving()
        reason = self._why_not(model)
        if mode == SEMANTIC and reason:
            raise MeaningSearchUnavailable(f"mode=semantic is not available: {reason}")
        if reason:
            hits = keyword.search(q, tag=tag, limit=WINDOW)
            return Ranking(hits, (KEYWORD,), note=f"keyword only: {reason}")
        hybrid_index = getattr(keyword, "hybrid_search", None)
        if mode != SEMANTIC and hybrid_index is not None:
            # Meilisearch holds the vectors too: its own hybrid search answers.
            vector = list(self.query_vector(q))
            hits = hybrid_index(q, vector, tag=tag, limit=WINDOW)
            return Ranking(fuse(q, hits), (KEYWORD, SEMANTIC), MEILISEARCH, self._slot.model)
        assert model is not None
        vector = list(self.query_vector(q))
        limit = WINDOW if mode == SEMANTIC else SEMANTIC_HITS
        try:
            meaning = queries.nearest(
                self._pool, self.method, model, vector, limit=limit, tag=tag, cache=self._vectors
            )
        except MeaningSearchUnavailable as exc:
            if mode == SEMANTIC:
                raise
            hits = keyword.search(q, tag=tag, limit=WINDOW)
            return Ranking(hits, (KEYWORD,), note=f"keyword only: {exc.message}")
        if mode == SEMANTIC:
            return Ranking(meaning, (SEMANTIC,), self.method, model.name)
        words = keyword.search(q, tag=tag, limit=WINDOW)
        modes = tuple(m for m, hits in ((KEYWORD, words), (SEMANTIC, meaning)) if hits)
        return Ranking(fuse(q, words, meaning), modes, self.method, model.name)

    def _embed_query(self, q: str) -> tuple[float, ...]:
        return tuple(self._slot.get().embed_query(q))

    def similar(self, test_id: UUID, *, limit: int) -> Ranking:
        """The published tests nearest in meaning to ``test_id``, never itself."""
        model = self.serving()
        if model is None:
            reason = self._slot.reason() or f"the tests are being embedded with {self._slot.model}"
            raise MeaningSearchUnavailable(f"similar tests are not available: {reason}")
        hits = similar_tests(
            self._pool,
            self.method,
            model,
            test_id,
            limit=limit,
            vectors=self._centred,
            means=self._means,
        )
        note = None if hits is not None else "this test has no vector yet"
        return Ranking(hits or [], (SEMANTIC,), self.method, model.name, note)


def fuse(q: str, *rankings: list[SearchHit]) -> list[SearchHit]:
    """Reciprocal rank fusion of ``rankings``; a test titled as ``q`` first; stable ties."""
    scores: dict[UUID, float] = {}
    found: dict[UUID, SearchHit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.id] = scores.get(hit.id, 0.0) + 1.0 / (RRF_K + rank)
            found.setdefault(hit.id, hit)
    asked = body(q)

    def order(hit: SearchHit) -> tuple[bool, float, int, str]:
        return (body(hit.title) != asked, -scores[hit.id], -(hit.position or 0), str(hit.id))

    return sorted(found.values(), key=order)
