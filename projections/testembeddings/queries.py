"""Ranking by meaning over ``test_embeddings``: the nearest tests to a vector or to a test.

With pgvector the database ranks (cosine distance, the HNSW index of 512-dimension vectors;
an exact scan for other dimensions). Without it (``real[]``) this process reads the vectors of
the serving model once (``VectorCache``: again only after the table changed) and ranks them
with numpy, for up to ``IN_PROCESS_MAX`` published tests; past that it refuses
(``MeaningSearchUnavailable``, saying so) rather than get slow.
Only listed rows (published, not deleted tests) of the one model asked are ever ranked.
Similar tests are ranked from here, centred per language (``similar``).
"""

from __future__ import annotations

import threading
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


def vector_of(pool: ConnectionPool[Any], model: Model, test_id: UUID) -> list[float] | None:
    """The stored vector of a listed test under ``model``, if any."""
    found = vector_and_group(pool, model, test_id)
    return None if found is None else found[0]


def vector_and_group(
    pool: ConnectionPool[Any], model: Model, test_id: UUID
) -> tuple[list[float], bool] | None:
    """The stored vector of a listed test and whether it is in the Korean language group."""
    with pool.connection() as conn:
        row = (
            tuples(conn)
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
        scan_settings(conn)
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(query, params).fetchall()
    return [hit(r) for r in rows]


def scan_settings(conn: psycopg.Connection[Any], *, index: bool = False) -> None:
    # An index scan stops at ef_search candidates before the filters; iterative scans
    # (pgvector 0.8) go on until the limit is filled, in exact order. ``index``: with a
    # language group's filter the planner may guess that few rows pass (a new table has no
    # statistics) and read the whole table instead, 30 ms for 10,000 tests against 1 ms
    # through the index, so a sequential scan is ruled out.
    tuples(conn).execute(
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

    def load(self, pool: ConnectionPool[Any], model: Model) -> tuple[list[dict[str, Any]], Any]:
        """The listed rows of ``model`` and their vectors as one float32 matrix."""
        import numpy as np  # comes with the embedding model (chronicle[semantic])

        with pool.connection() as conn:
            digest = tuples(conn).execute(DIGEST, (model.name, model.dimension)).fetchone()
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
    return ranked(rows, matrix, vector, limit=limit, tag=tag, exclude=exclude)


def ranked(
    rows: list[dict[str, Any]],
    matrix: Any,
    vector: list[float],
    *,
    limit: int,
    tag: str | None,
    exclude: UUID | None,
) -> list[SearchHit]:
    """Up to ``limit`` of ``rows`` whose ``matrix`` rows are nearest to ``vector``."""
    import numpy as np

    if not rows:
        return []
    scores = matrix @ np.asarray(vector, dtype=np.float32)
    key = tag_key(tag) if tag is not None else None
    # Nearest first; ties by id (rows are in id order and the sort is stable).
    found = []
    for i in np.argsort(-scores, kind="stable"):
        row = rows[int(i)]
        if row["test_id"] == exclude or (key is not None and key not in row["tag_keys"]):
            continue
        found.append(hit(row))
        if len(found) == limit:
            break
    return found


def hit(row: dict[str, Any]) -> SearchHit:
    return SearchHit(
        id=row["test_id"],
        title=row["title"],
        thumbnail=row["thumbnail"],
        tags=tuple(row["tags"]),
        updated_at=row["updated_at"],
        position=row["position"],
    )


def tuples(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
    """A cursor of tuples, whatever row factory the pool's connections have."""
    return conn.cursor(row_factory=tuple_row)
