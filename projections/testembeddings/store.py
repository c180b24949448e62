"""``test_embeddings``: one vector per (model, test), written idempotently by version.

How vectors are stored depends on the database (migration 0014): a pgvector ``vector`` column
with an HNSW cosine index where the ``vector`` extension exists (``PGVECTOR``), else ``real[]``
ranked in the API process (``IN_PROCESS``). ``method`` tells which, from the column's type.

Which model answers: ``begin`` records the configured model when it is new (or comes back after
another one), with the log head of that moment, and sends the reactor back to position 0 to
embed every test again; queries read the newest model whose embedding reached that head
(``serving_model``), so the old vectors answer until the new ones are complete.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import tuple_row
from psycopg_pool import ConnectionPool

log = logging.getLogger(__name__)

NAME = "test_embeddings"
PGVECTOR, IN_PROCESS = "pgvector", "in-process"
_HANGUL = re.compile("[가-힣]")


@dataclass(frozen=True)
class EmbeddedTest:
    """What the table holds of one published test, as of ``version`` (log ``position``)."""

    test_id: UUID
    version: int
    position: int
    text_sha256: str
    title: str
    tags: tuple[str, ...]
    tag_keys: tuple[str, ...]
    thumbnail: str | None
    updated_at: datetime


@dataclass(frozen=True)
class Model:
    """A model whose vectors are complete: the one queries rank with."""

    name: str
    dimension: int


def method_of(conn: psycopg.Connection[Any]) -> str:
    """``PGVECTOR`` when the vector column is pgvector's type, else ``IN_PROCESS``."""
    row = (
        _tuples(conn)
        .execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
            " WHERE attrelid = 'test_embeddings'::regclass AND attname = 'vector'"
        )
        .fetchone()
    )
    return PGVECTOR if row and row[0].startswith("vector") else IN_PROCESS


def vector_param(method: str, vector: list[float]) -> Any:
    """``vector`` as the query parameter the column's type takes."""
    if method == PGVECTOR:
        return "[" + ",".join(repr(float(x)) for x in vector) + "]"
    return [float(x) for x in vector]


def cast(method: str) -> str:
    return "vector" if method == PGVECTOR else "real[]"


class EmbeddingStore:
    """Writes of ``test_embeddings`` (the reactor's) and the model bookkeeping."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool
        self._method: str | None = None

    @property
    def method(self) -> str:
        """How vectors are stored and ranked here (``PGVECTOR`` or ``IN_PROCESS``)."""
        if self._method is None:
            with self._pool.connection() as conn:
                self._method = method_of(conn)
        return self._method

    def refresh(self, model: str, test: EmbeddedTest) -> bool:
        """Move a listed row of the same text to ``test``'s version; whether there was one."""
        with self._pool.connection() as conn:
            cur = _tuples(conn).execute(
                "UPDATE test_embeddings SET version = %(version)s, position = %(position)s,"
                " title = %(title)s, tags = %(tags)s, tag_keys = %(tag_keys)s,"
                " thumbnail = %(thumbnail)s, updated_at = %(updated_at)s, korean = %(korean)s"
                " WHERE model = %(model)s AND test_id = %(test_id)s AND listed"
                " AND text_sha256 = %(sha)s AND version < %(version)s",
                _row(model, test),
            )
            return cur.rowcount == 1

    def version_of(self, model: str, test_id: UUID) -> int:
        """The version held for the test under ``model`` (0: none)."""
        with self._pool.connection() as conn:
            row = (
                _tuples(conn)
                .execute(
                    "SELECT version FROM test_embeddings WHERE model = %s AND test_id = %s",
                    (model, test_id),
                )
                .fetchone()
            )
        return int(row[0]) if row else 0

    def stored_texts(self, model: str, test_ids: list[UUID]) -> set[str]:
        """The digests of the texts embedded for ``test_ids`` under ``model``."""
        with self._pool.connection() as conn:
            found = _tuples(conn).execute(
                "SELECT text_sha256 FROM test_embeddings WHERE model = %s AND listed"
                " AND test_id = ANY(%s)",
                (model, test_ids),
            )
            return {row[0] for row in found.fetchall()}

    def write(self, model: str, test: EmbeddedTest, vector: list[float]) -> None:
        """Store the vector of ``test`` unless the same or a newer version is there."""
        method = self.method
        row = _row(model, test) | {"dimension": len(vector), "vector": vector_param(method, vector)}
        with self._pool.connection() as conn:
            _tuples(conn).execute(
                "INSERT INTO test_embeddings AS e (model, test_id, version, position, listed,"
                " dimension, text_sha256, vector, title, tags, tag_keys, thumbnail, updated_at,"
                " korean) VALUES (%(model)s, %(test_id)s, %(version)s, %(position)s, true,"
                f" %(dimension)s, %(sha)s, %(vector)s::{cast(method)}, %(title)s, %(tags)s,"
                " %(tag_keys)s, %(thumbnail)s, %(updated_at)s, %(korean)s)"
                " ON CONFLICT (model, test_id) DO UPDATE SET version = EXCLUDED.version,"
                " position = EXCLUDED.position, listed = true, dimension = EXCLUDED.dimension,"
                " text_sha256 = EXCLUDED.text_sha256, vector = EXCLUDED.vector,"
                " title = EXCLUDED.title, tags = EXCLUDED.tags, tag_keys = EXCLUDED.tag_keys,"
                " thumbnail = EXCLUDED.thumbnail, updated_at = EXCLUDED.updated_at,"
                " korean = EXCLUDED.korean"
                " WHERE e.version < EXCLUDED.version",
                row,
            )

    def remove(self, model: str, dimension: int, test_id: UUID, version: int) -> None:
        """Leave a tombstone at ``version`` unless the same or a newer version is there."""
        with self._pool.connection() as conn:
            _tuples(conn).execute(
                "INSERT INTO test_embeddings AS e (model, test_id, version, listed, dimension,"
                " title, tags, tag_keys) VALUES (%s, %s, %s, false, %s, '', '{}', '{}')"
                " ON CONFLICT (model, test_id) DO UPDATE SET version = EXCLUDED.version,"
                " position = NULL, listed = false, text_sha256 = NULL, vector = NULL,"
                " title = '', tags = '{}', tag_keys = '{}', thumbnail = NULL, updated_at = NULL"
                " WHERE e.version < EXCLUDED.version",
                (model, test_id, version, dimension),
            )
            # The vectors of an older model still answer while a new one is embedded: they
            # must not keep a test that is gone.
            _tuples(conn).execute(
                "UPDATE test_embeddings SET listed = false, vector = NULL, text_sha256 = NULL,"
                " version = %s WHERE test_id = %s AND model <> %s AND version < %s",
                (version, test_id, model, version),
            )

    def begin(self, model: str, dimension: int) -> bool:
        """Make ``model`` the one being embedded; whether that starts a re-embedding from 0."""
        with self._pool.connection() as conn, conn.transaction():
            _tuples(conn).execute("LOCK TABLE test_embedding_models IN EXCLUSIVE MODE")
            newest = (
                _tuples(conn)
                .execute("SELECT model FROM test_embedding_models ORDER BY started_at DESC LIMIT 1")
                .fetchone()
            )
            if newest is not None and newest[0] == model:
                return False
            head = (
                _tuples(conn)
                .execute("SELECT coalesce(max(notification_id), 0) FROM chronicle_events")
                .fetchone()
            )
            _tuples(conn).execute(
                "INSERT INTO test_embedding_models (model, dimension, complete_at, started_at)"
                " VALUES (%s, %s, %s, clock_timestamp()) ON CONFLICT (model) DO UPDATE SET"
                " dimension = EXCLUDED.dimension, complete_at = EXCLUDED.complete_at,"
                " started_at = EXCLUDED.started_at",
                (model, dimension, head[0] if head else 0),
            )
            # Vectors of this model from an earlier time may be stale: drop them with the rest
            # of its rows and embed every test again.
            _tuples(conn).execute("DELETE FROM test_embeddings WHERE model = %s", (model,))
            _tuples(conn).execute(
                "UPDATE projection_position SET position = 0 WHERE name = %s", (NAME,)
            )
        if newest is None:
            log.info("meaning search: embedding every test with %s", model)
        else:
            log.warning(
                "meaning search: embedding every test with %s from the start; queries use the "
                "vectors of %s until it is done",
                model,
                newest[0],
            )
        return True


def serving_model(conn: psycopg.Connection[Any]) -> Model | None:
    """The newest model whose embedding reached the log head of its start, if any."""
    row = (
        _tuples(conn)
        .execute(
            "SELECT m.model, m.dimension FROM test_embedding_models m"
            " LEFT JOIN projection_position p ON p.name = %s"
            " WHERE coalesce(p.position, 0) >= m.complete_at"
            " ORDER BY m.started_at DESC LIMIT 1",
            (NAME,),
        )
        .fetchone()
    )
    return Model(row[0], int(row[1])) if row else None


def _row(model: str, test: EmbeddedTest) -> dict[str, Any]:
    return {
        "model": model,
        "test_id": test.test_id,
        "version": test.version,
        "position": test.position,
        "sha": test.text_sha256,
        "title": test.title,
        "tags": list(test.tags),
        "tag_keys": list(test.tag_keys),
        "thumbnail": test.thumbnail,
        "updated_at": test.updated_at,
        "korean": is_korean(test.title, test.tags),
    }


def is_korean(title: str, tags: Sequence[str]) -> bool:
    """The test's language group for similar tests: Korean when its title or a tag holds
    Hangul (the column ``korean``)."""
    return bool(_HANGUL.search(title) or any(_HANGUL.search(tag) for tag in tags))


def _tuples(conn: psycopg.Connection[Any]) -> psycopg.Cursor[Any]:
    """A cursor of tuples, whatever row factory the pool's connections have."""
    return conn.cursor(row_factory=tuple_row)
