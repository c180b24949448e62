"""Ranking by meaning over ``test_embeddings``: the nearest tests to a vector or to a test.

With pgvector the database ranks (cosine distance, the HNSW index of 512-dimension vectors;
an exact scan for other dimensions). Without it (``real[]``) this process reads the vectors of
the serving model and ranks them with numpy, for up to ``IN_PROCESS_MAX`` published tests;
past that it refuses (``MeaningSearchUnavailable``, saying so) rather than get slow.
Only listed rows (published, not deleted tests) of the one model asked are ever ranked.
"""

from __future__ import annotations

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
) -> list[SearchHit]:
    """Up to ``limit`` listed tests of ``model`` nearest to ``vector``, nearest first."""
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
    return _in_process(pool, vector, where, params)


def similar(
    pool: ConnectionPool[Any], method: str, model: Model, test_id: UUID, *, limit: int
) -> list[SearchHit] | None:
    """The tests nearest to ``test_id`` (never itself); none when it has no vector."""
    vector = vector_of(pool, model, test_id)
    if vector is None:
        return None
    return nearest(pool, method, model, vector, limit=limit, exclude=test_id)


def vector_of(pool: ConnectionPool[Any], model: Model, test_id: UUID) -> list[float] | None:
    """The stored vector of a listed test under ``model``, if any."""
    with pool.connection() as conn:
        row = (
            _tuples(conn)
            .execute(
                "SELECT vector::real[] FROM test_embeddings"
                " WHERE model = %s AND test_id = %s AND listed",
                (model.name, test_id),
            )
            .fetchone()
        )
    return None if row is None else [float(x) for x in row[0]]


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
        # An index scan stops at ef_search candidates before the filters; iterative scans
        # (pgvector 0.8) go on until the limit is filled, in exact order.
        _tuples(conn).execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(EF_SEARCH),))
        _tuples(conn).execute("SELECT set_config('hnsw.iterative_scan', 'strict_order', true)")
        with conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(query, params).fetchall()
    return [_hit(r) for r in rows]


def _in_process(
    pool: ConnectionPool[Any], vector: list[float], where: list[str], params: dict[str, Any]
) -> list[SearchHit]:
    import numpy as np  # comes with the embedding model (chronicle[semantic])

    params["cap"] = IN_PROCESS_MAX + 1
    query = f"SELECT {HIT}, vector FROM test_embeddings WHERE {' AND '.join(where)} LIMIT %(cap)s"
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()
    if len(rows) > IN_PROCESS_MAX:
        raise MeaningSearchUnavailable(
            f"more than {IN_PROCESS_MAX} tests to rank in the API process: this database has no "
            "`vector` extension (install pgvector and migrate again)"
        )
    if not rows:
        return []
    matrix = np.asarray([r["vector"] for r in rows], dtype=np.float32)
    scores = matrix @ np.asarray(vector, dtype=np.float32)
    # Nearest first; ties by id, as in the database's order.
    order = sorted(range(len(rows)), key=lambda i: (-float(scores[i]), str(rows[i]["test_id"])))
    return [_hit(rows[i]) for i in order[: params["limit"]]]


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
