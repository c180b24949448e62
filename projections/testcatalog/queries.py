"""Queries on ``test_catalog``: the tests as the site and its admins list and open them.

Rows are dicts, column -> value. A test is public when it is published and not deleted;
admins see every test that is not deleted (``get_test`` also returns a deleted one: the
route decides). Lists are newest first by ``position``, the log position of each test's last
event (unique per row), which is also the cursor: the next page is the rows below it.
"""

from typing import Any, cast
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


def list_tests(
    pool: ConnectionPool, *, public: bool, tag: str | None, after: int | None, limit: int
) -> list[dict[str, Any]]:
    """Tests newest first below the cursor ``after`` (a position), without their documents.

    ``public``: published and not deleted only, else every test not deleted (the admin list).
    ``tag`` keeps the tests that have that whole tag, compared case-insensitively.
    """
    where = [PUBLIC if public else ADMIN]
    params: list[Any] = []
    if after is not None:
        where.append("position < %s")
        params.append(after)
    if tag is not None:
        where.append("tag_keys @> ARRAY[%s]::text[]")
        params.append(tag_key(tag))
    params.append(limit)
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {LIST_COLUMNS} FROM test_catalog WHERE {' AND '.join(where)} "
            "ORDER BY position DESC LIMIT %s",
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
