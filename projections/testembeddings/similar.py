"""Similar tests: the tests nearest to a test, ranked centred per language group.

A multilingual model's vectors carry a language component that can outweigh meaning, so a
Korean test's nearest tests were Korean ones first, whatever their topic. Each vector, the
test's and the candidates', is taken less the mean vector of its language group (the column
``korean``: Hangul in its title or a tag; the rest) over the listed tests, and renormalised
(bench/semantic_eval.md: sibling in the top 3 0.614 → 0.886 on the evaluation set, 0.750 →
1.000 on the held-out one). With pgvector each process reads the means again once they are a
minute old (``LanguageMeans``); in process they are taken with the vectors
(``CentredVectors``). Until each group has ``MIN_GROUP`` listed tests, similar tests are
ranked as embedded.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from adapters.search import SearchHit
from projections.testembeddings.queries import (
    HIT,
    VectorCache,
    hit,
    nearest,
    ranked,
    scan_settings,
    tuples,
    vector_and_group,
)
from projections.testembeddings.store import PGVECTOR, Model, vector_param

MIN_GROUP = 10  # listed tests a language group needs before similar tests are centred
MEANS_SECONDS = 60.0  # how long a process keeps the means it read
CANDIDATES = 50  # per language group, at least: nearest by the raw vector, then ranked centred


def similar_tests(
    pool: ConnectionPool[Any],
    method: str,
    model: Model,
    test_id: UUID,
    *,
    limit: int,
    vectors: CentredVectors,
    means: LanguageMeans,
) -> list[SearchHit] | None:
    """The tests nearest to ``test_id`` (never itself), centred per language; none when it has
    no vector. ``vectors`` serve in process, ``means`` with pgvector."""
    found = vector_and_group(pool, model, test_id)
    if found is None:
        return None
    vector, korean = found
    if method != PGVECTOR:
        rows, matrix, centres = vectors.load(pool, model)
        if centres is not None:
            vector = centres.centre(vector, korean)
        return ranked(rows, matrix, vector, limit=limit, tag=None, exclude=test_id)
    centres = means.load(pool, model)
    if centres is None:
        return nearest(pool, method, model, vector, limit=limit, exclude=test_id)
    return _in_database(pool, model, centres, centres.centre(vector, korean), test_id, limit)


@dataclass(frozen=True)
class Centres:
    """The mean vector of each language group's listed tests."""

    korean: Any  # numpy arrays
    other: Any

    @functools.cached_property
    def params(self) -> dict[str, Any]:
        """The means as query parameters."""
        return {
            "korean": vector_param(PGVECTOR, [float(x) for x in self.korean]),
            "other": vector_param(PGVECTOR, [float(x) for x in self.other]),
        }

    def centre(self, vector: Any, korean: bool) -> list[float]:
        """``vector`` less its group's mean, renormalised."""
        import numpy as np

        shifted = np.asarray(vector, dtype=np.float64) - (self.korean if korean else self.other)
        norm = float(np.linalg.norm(shifted))
        return [float(x) for x in (shifted / norm if norm > 0 else shifted)]

    def centre_rows(self, matrix: Any, korean: Any) -> Any:
        """Each row of ``matrix`` less its group's mean (``korean``: a mask), renormalised."""
        import numpy as np

        shifted = matrix - np.where(korean[:, None], self.korean, self.other)
        return (shifted / np.linalg.norm(shifted, axis=1, keepdims=True)).astype(np.float32)


class LanguageMeans:
    """The groups' means of one model's listed vectors (pgvector), read again once they are
    ``MEANS_SECONDS`` old: a test more or less moves a mean of thousands by little, and reading
    them costs a pass over every vector (55 ms for 10,000 tests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._model: Model | None = None
        self._read_at = 0.0
        self._centres: Centres | None = None

    def load(self, pool: ConnectionPool[Any], model: Model) -> Centres | None:
        """The means, or None while a group has fewer than ``MIN_GROUP`` listed tests."""
        now = self._clock()
        with self._lock:
            if model == self._model and now - self._read_at < MEANS_SECONDS:
                return self._centres
        with pool.connection() as conn:
            groups = tuples(conn).execute(MEANS, (model.name, model.dimension)).fetchall()
        import numpy as np  # comes with the embedding model (chronicle[semantic])

        found = {korean: (count, mean) for korean, count, mean in groups}
        centres = None
        if all(found.get(g, (0, None))[0] >= MIN_GROUP for g in (True, False)):
            korean, other = (np.asarray(found[g][1], dtype=np.float64) for g in (True, False))
            centres = Centres(korean, other)
        with self._lock:
            self._model, self._read_at, self._centres = model, now, centres
        return centres


MEANS = """
    SELECT korean, count(*), avg(vector)::real[] FROM test_embeddings
    WHERE model = %s AND listed AND dimension = %s GROUP BY korean
"""


class CentredVectors:
    """The vectors a ``VectorCache`` holds (in process), centred once per load of them."""

    def __init__(self, vectors: VectorCache) -> None:
        self._vectors = vectors
        self._lock = threading.Lock()
        self._centred: tuple[Any, Any, Centres | None] | None = None  # (of matrix, centred, means)

    def load(
        self, pool: ConnectionPool[Any], model: Model
    ) -> tuple[list[dict[str, Any]], Any, Centres | None]:
        """The rows, their vectors centred on their group's means, and the means; the vectors
        as loaded and None while a group has under ``MIN_GROUP`` tests."""
        import numpy as np

        rows, matrix = self._vectors.load(pool, model)
        with self._lock:
            if self._centred is not None and self._centred[0] is matrix:
                return rows, self._centred[1], self._centred[2]
        korean = np.array([r["korean"] for r in rows], dtype=bool)
        centred, centres = matrix, None
        if min(int(korean.sum()), int((~korean).sum())) >= MIN_GROUP:
            centres = Centres(matrix[korean].mean(axis=0), matrix[~korean].mean(axis=0))
            centred = centres.centre_rows(matrix, korean)
        with self._lock:
            self._centred = (matrix, centred, centres)
        return rows, centred, centres


def _in_database(
    pool: ConnectionPool[Any],
    model: Model,
    centres: Centres,
    centred: list[float],
    exclude: UUID,
    limit: int,
) -> list[SearchHit]:
    """Each group's nearest tests to the centred vector by the HNSW index (a candidate's raw
    vector, unit length, ranks within its group nearly as its centred one does), then all of
    them ranked by their centred vectors."""
    typed = f"vector::vector({int(model.dimension)})"
    where = "model = %(model)s AND listed AND dimension = %(dimension)s AND test_id <> %(exclude)s"

    def group(korean: bool) -> str:
        mean, test = ("%(korean)s", "korean") if korean else ("%(other)s", "NOT korean")
        return (
            f"(SELECT {HIT}, l2_normalize({typed} - {mean}::vector) <#> %(v)s::vector AS d"
            f" FROM test_embeddings WHERE {where} AND {test}"
            f" ORDER BY {typed} <=> %(v)s::vector({int(model.dimension)}) LIMIT %(k)s)"
        )

    params = {
        "model": model.name,
        "dimension": model.dimension,
        "exclude": exclude,
        "v": vector_param(PGVECTOR, centred),
        **centres.params,
        "k": max(CANDIDATES, 4 * limit),
        "limit": limit,
    }
    query = f"{group(True)} UNION ALL {group(False)} ORDER BY d, test_id LIMIT %(limit)s"
    with pool.connection() as conn, conn.transaction():
        scan_settings(conn, index=True)
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(query, params).fetchall()
    return [hit(r) for r in rows]
