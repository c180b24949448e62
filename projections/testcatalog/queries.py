"""Queries on ``test_catalog``: the tests as the site and its admins list and open them.

Rows are dicts, column -> value. A test is public when it is published and not deleted;
admins see every test that is not deleted (``get_test`` also returns a deleted one: the
route decides). The public list is newest first by first publication (``published_at``, which
no later event changes, ties broken by ``test_id``): a visitor paging through it with a
``Place`` cursor never skips nor repeats a test an admin edits meanwhile. The admin list is
last changed first by ``position``, the log position of each test's last event (unique per
row), which is also its cursor: the next page is the rows below it.
"""

from datetime import datetime
from typing import Any, NamedTuple, cast
from uuid import UUID

from psycopg_pool import ConnectionPool

from adapters.search.text import tag_key

# What a list page needs: everything but the document, which can be large.
LIST_COLUMNS = """test_id, version, position, title, description, tags, tag_keys, thumbnail,
    published, deleted, created_at, updated_at, saved_by, published_at"""
COLUMNS = LIST_COLUMNS + ", document"
PUBLIC = "published AND NOT deleted"
ADMIN = "NOT deleted"


def get_test(pool: ConnectionPool, test_id: UUID) -> dict[str, Any] | None:
    """The catalog row of the test whatever its state (deleted included), or None."""
    return _one(pool, f"SELECT {COLUMNS} FROM test_catalog WHERE test_id = %s", test_id)


def get_public_test(pool: ConnectionPool, test_id: UUID) -> dict[str, Any] | None:
    """The catalog row of the test if the public may see it (published, not deleted), or None."""
    return _one(
        pool, f"SELECT {COLUMNS} FROM test_catalog WHERE test_id = %s AND {PUBLIC}", test_id
    )


class Place(NamedTuple):
    """Where a row stands in the public list: its first publication, then its id."""

    published_at: datetime
    test_id: UUID


def list_public_tests(
    pool: ConnectionPool, *, tag: str | None, after: Place | None, limit: int
) -> list[dict[str, Any]]:
    """Published tests, first published last, after the ``Place`` ``after``; no documents.

    ``tag`` keeps the tests that have that whole tag, compared case-insensitively.
    """
    where = [PUBLIC]
    params: list[Any] = []
    if after is not None:
        where.append("(published_at, test_id) < (%s, %s)")
        params += [after.published_at, after.test_id]
    return _list(pool, where, params, tag, "published_at DESC, test_id DESC", limit)


def list_tests(
    pool: ConnectionPool, *, tag: str | None, after: int | None, limit: int
) -> list[dict[str, Any]]:
    """Every test not deleted (the admin list), last changed first, below the position ``after``.

    ``tag`` keeps the tests that have that whole tag, compared case-insensitively.
    """
    where = [ADMIN]
    params: list[Any] = []
    if after is not None:
        where.append("position < %s")
        params.append(after)
    return _list(pool, where, params, tag, "position DESC", limit)


def _list(
    pool: ConnectionPool,
    where: list[str],
    params: list[Any],
    tag: str | None,
    order: str,
    limit: int,
) -> list[dict[str, Any]]:
    if tag is not None:
        where.append("tag_keys @> ARRAY[%s]::text[]")
        params.append(tag_key(tag))
    params.append(limit)
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {LIST_COLUMNS} FROM test_catalog WHERE {' AND '.join(where)} "
            f"ORDER BY {order} LIMIT %s",
            params,
        ).fetchall()
    return [dict(r) for r in rows]


def catalog_position(pool: ConnectionPool) -> int:
    """The log position the ``test_catalog`` projection has reached (0 if it never ran)."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT position FROM projection_position WHERE name = 'test_catalog'"
        ).fetchone()
    return int(cast(dict[str, Any], row)["position"]) if row else 0


def _one(pool: ConnectionPool, query: str, test_id: UUID) -> dict[str, Any] | None:
    with pool.connection() as conn:
        row = conn.execute(query, (test_id,)).fetchone()
    return dict(row) if row else None
