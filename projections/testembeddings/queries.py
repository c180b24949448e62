"""Ranking by meaning over ``test_embeddings``: the nearest tests to a vector or to a test.

With pgvector the database ranks (cosine distance, the HNSW index of 512-dimension vectors;
an exact scan for other dimensions). Without it (``real[]``) this process reads the vectors of
the serving model once (``VectorCache``: again only after the table changed) and ranks them
with numpy, for up to ``IN_PROCESS_MAX`` published tests; past that it refuses
(``MeaningSearchUnavailable``, saying so) rather than get slow.
Only listed rows (published, not deleted tests) of the one model asked are ever ranked.

Similar tests are ranked centred per language: a multilingual model's vectors carry a language
component that can outweigh meaning, so a Korean test's nearest tests were Korean ones first.
Each vector, the test's and the candidates', is taken less the mean vector of its language
group (the column ``korean``: Hangul in its title or a tag; the rest) over the listed tests,
and renormalised (bench/semantic_eval.md: sibling in the top 3 0.614 → 0.886 on the
evaluation set, 0.750 → 1.000 on the held-out one). With pgvector each process reads the means
again once they are a minute old (``LanguageMeans``); in process they come with the vectors.
Until each group has ``MIN_GROUP`` listed tests, similar tests are ranked as embedded.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row, tuple_row
from psycopg_pool import ConnectionPool

from adapters.search import SearchHit
from adapters.search.text import tag_key
from domain.errors import MeaningSearchUnavailable
from projections.testembeddings.store import PGVECTOR, Model, vector_param

IN_PROCESS_MAX = 5000
EF_SEARCH = 200  # HNSW candidates per scan: twice the largest page
HIT = "test_id, title, thumbnail, tags, updated_at, position"
MIN_GROUP = 10  # listed tests a language group needs before similar tests are centred
MEANS_SECONDS = 60.0  # how long a process keeps the means it read
CANDIDATES = 50  # per language group, at least: nearest by the raw vector, then ranked centred


def nearest(
    pool: ConnectionPool[Any],
    method: str,
    model: Model,
    vector: list[float],
    *,
    limit: int,
    tag: str | None = None,
    exclude: UUID | None = None,
    cache: VectorCache | None = None,
) -> list[SearchHit]:
    """Up to ``limit`` listed tests of ``model`` nearest to ``vector``, nearest first.

    In process, ``cache`` keeps the vectors between calls (none: read each time).
    """
    where = ["model = %(model)s", "listed", "dimension = %(dimension)s"]
    params: dict[str, Any] = {"model": model.name, "dimension": model.dimension, "limit": limit}
    if tag is not None:
        where.append("tag_keys @> ARRAY[%(tag)s::text]")
        params["tag"] = tag_key(tag)
    if exclude is not None:
        where.append("test_id <> %(exclude)s")
        params["exclude"] = exclude
    if method == PGVECTOR:
        return _in_database(pool, model, vector, where, params)
    return _in_process(
        pool, model, vector, limit=limit, tag=tag, exclude=exclude, cache=cache or VectorCache()
    )


def similar(
    pool: ConnectionPool[Any],
    method: str,
    model: Model,
    test_id: UUID,
    *,
    limit: int,
    cache: VectorCache | None = None,
    means: LanguageMeans | None = None,
) -> list[SearchHit] | None:
    """The tests nearest to ``test_id`` (never itself), centred per language; none when it has
    no vector."""
    found = _vector_and_group(pool, model, test_id)
    if found is None:
        return None
    vector, korean = found
    if method != PGVECTOR:
        cache = cache or VectorCache()
        return _similar_in_process(pool, model, vector, korean, test_id, limit, cache)
    centres = (means or LanguageMeans()).load(pool, model)
    if centres is None:
        return nearest(pool, method, model, vector, limit=limit, exclude=test_id)
    centred = centres.centre(vector, korean)
    return _similar_in_database(pool, model, centres, centred, test_id, limit)


def vector_of(pool: ConnectionPool[Any], model: Model, test_id: UUID) -> list[float] | None:
    """The stored vector of a listed test under ``model``, if any."""
    found = _vector_and_group(pool, model, test_id)
    return None if found is None else found[0]


@dataclass(frozen=True)
class Centres:
    """The mean vector of each language group's listed tests, as arrays and as parameters."""

    korean: Any  # numpy arrays
    other: Any

    @functools.cached_property
    def params(self) -> dict[str, Any]:
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
        import numpy as np  # comes with the embedding model (chronicle[semantic])

        now = self._clock()
        with self._lock:
            if model == self._model and now - self._read_at < MEANS_SECONDS:
                return self._centres
        with pool.connection() as conn:
            groups = _tuples(conn).execute(MEANS, (model.name, model.dimension)).fetchall()
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


def _vector_and_group(
    pool: ConnectionPool[Any], model: Model, test_id: UUID
) -> tuple[list[float], bool] | None:
    with pool.connection() as conn:
        row = (
            _tuples(conn)
            .execute(
                "SELECT vector::real[], korean FROM test_embeddings"
                " WHERE model = %s AND test_id = %s AND listed",
                (model.name, test_id),
            )
            .fetchone()
        )
    if row is None:
        return None
    return [float(x) for x in row[0]], bool(row[1])


def _similar_in_database(
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
        _scan_settings(conn, index=True)
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(query, params).fetchall()
    return [_hit(r) for r in rows]


def _similar_in_process(
    pool: ConnectionPool[Any],
    model: Model,
    vector: list[float],
    mine: bool,
    exclude: UUID,
    limit: int,
    cache: VectorCache,
) -> list[SearchHit]:
    rows, matrix, centres = cache.centred(pool, model)
    if centres is not None:
        vector = centres.centre(vector, mine)
    return _ranked(rows, matrix, vector, limit=limit, tag=None, exclude=exclude)


def _in_database(
    pool: ConnectionPool[Any],
    model: Model,
    vector: list[float],
    where: list[str],
    params: dict[str, Any],
) -> list[SearchHit]:
    # The same cast as the HNSW index's expression (migration 0014), so the planner can use it.
    typed = f"vector::vector({int(model.dimension)})"
    params["v"] = vector_param(PGVECTOR, vector)
    query = (
        f"SELECT {HIT} FROM test_embeddings WHERE {' AND '.join(where)}"
        f" ORDER BY {typed} <=> %(v)s::vector({int(model.dimension)})"
        " LIMIT %(limit)s"
    )
    with pool.connection() as conn, conn.transaction():
        _scan_settings(conn)
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(query, params).fetchall()
    return [_hit(r) for r in rows]


def _scan_settings(conn: psycopg.Connection[Any], *, index: bool = False) -> None:
    # An index scan stops at ef_search candidates before the filters; iterative scans
    # (pgvector 0.8) go on until the limit is filled, in exact order. ``index``: with a
    # language group's filter the planner may guess that few rows pass (a new table has no
    # statistics) and read the whole table instead, 30 ms for 10,000 tests against 1 ms
    # through the index, so a sequential scan is ruled out.
    _tuples(conn).execute(
        "SELECT set_config('hnsw.ef_search', %s, true),"
        " set_config('hnsw.iterative_scan', 'strict_order', true),"
        " set_config('enable_seqscan', %s, true)",
        (str(EF_SEARCH), "off" if index else "on"),
    )


class VectorCache:
    """The listed vectors of one model, read once and kept until ``test_embeddings`` changes.

    Whether it changed is asked each time from a digest of the table's ids, versions and
    listing (a scan without the vectors: milliseconds for thousands of tests), so a ranking is
    never older than the table, and the vectors cross the wire only after a change.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._rows: list[dict[str, Any]] = []
        self._matrix: Any = None
        self._centred: tuple[Any, Any, Centres | None] | None = None  # (of matrix, centred, means)

    def centred(
        self, pool: ConnectionPool[Any], model: Model
    ) -> tuple[list[dict[str, Any]], Any, Centres | None]:
        """``load``'s rows and matrix with each vector centred on its language group's mean,
        and the means; the matrix as loaded and None while a group has under ``MIN_GROUP``."""
        import numpy as np

        rows, matrix = self.load(pool, model)
        with self._lock:
            if self._centred is not None and self._centred[0] is matrix:
                return rows, self._centred[1], self._centred[2]
        korean = np.array([r["korean"] for r in rows], dtype=bool)
        centred, centres = matrix, None
        if min(int(korean.sum()), int((~korean).sum())) >= MIN_GROUP:
            centres = Centres(matrix[korean].mean(axis=0), matrix[~korean].mean(axis=0))
            shifted = matrix - np.where(korean[:, None], centres.korean, centres.other)
            centred = (shifted / np.linalg.norm(shifted, axis=1, keepdims=True)).astype(np.float32)
        with self._lock:
            self._centred = (matrix, centred, centres)
        return rows, centred, centres

    def load(self, pool: ConnectionPool[Any], model: Model) -> tuple[list[dict[str, Any]], Any]:
        """The listed rows of ``model`` and their vectors as one float32 matrix."""
        import numpy as np  # comes with the embedding model (chronicle[semantic])

        with pool.connection() as conn:
            digest = _tuples(conn).execute(DIGEST, (model.name, model.dimension)).fetchone()
            key = (model, *(digest or ()))
            with self._lock:
                if key == self._key:
                    return self._rows, self._matrix
            with conn.cursor(row_factory=dict_row) as cur:
                rows = cur.execute(
                    ROWS, (model.name, model.dimension, IN_PROCESS_MAX + 1)
                ).fetchall()
        if len(rows) > IN_PROCESS_MAX:
            raise MeaningSearchUnavailable(
                f"more than {IN_PROCESS_MAX} tests to rank in the API process: this database "
                "has no `vector` extension (install pgvector and migrate again)"
            )
        matrix = np.asarray([r.pop("vector") for r in rows], dtype=np.float32).reshape(
            len(rows), model.dimension
        )
        with self._lock:
            self._key, self._rows, self._matrix = key, rows, matrix
        return rows, matrix


DIGEST = """
    SELECT count(*), coalesce(sum(hashtext(test_id::text || ':' || version)::bigint), 0)
    FROM test_embeddings WHERE model = %s AND listed AND dimension = %s
"""
ROWS = f"""
    SELECT {HIT}, tag_keys, korean, vector FROM test_embeddings
    WHERE model = %s AND listed AND dimension = %s ORDER BY test_id LIMIT %s
"""


def _in_process(
    pool: ConnectionPool[Any],
    model: Model,
    vector: list[float],
    *,
    limit: int,
    tag: str | None,
    exclude: UUID | None,
    cache: VectorCache,
) -> list[SearchHit]:
    rows, matrix = cache.load(pool, model)
    return _ranked(rows, matrix, vector, limit=limit, tag=tag, exclude=exclude)


def _ranked(
    rows: list[dict[str, Any]],
    matrix: Any,
    vector: list[float],
    *,
    limit: int,
    tag: str | None,
    exclude: UUID | None,
) -> list[SearchHit]:
    import numpy as np

    if not rows:
        return []
    scores = matrix @ np.asarray(vector, dtype=np.float32)
    key = tag_key(tag) if tag is not None else None
    # Nearest first; ties by id (rows are in id order and the sort is stable).
    ranked = []
    for i in np.argsort(-scores, kind="stable"):
        row = rows[int(i)]
        if row["test_id"] == exclude or (key is not None and key not in row["tag_keys"]):
            continue
        ranked.append(_hit(row))
        if len(ranked) == limit:
            break
    return ranked


def _hit(row: dict[str, Any]) -> SearchHit:
    return SearchHit(
        id=row["test_id"],
        title=row["title"],
        thumbnail=row["thumbnail"],
        tags=tuple(row["tags"]),
        updated_at=row["updated_at"],
        position=row["position"],
    )


def _tuples(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
    """A cursor of tuples, whatever row factory the pool's connections have."""
    return conn.cursor(row_factory=tuple_row)
