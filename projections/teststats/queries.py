"""Queries on ``test_stats``: a test's takes per MBTI type."""

from typing import Any, cast
from uuid import UUID

from psycopg_pool import ConnectionPool


def get_test_stats(pool: ConnectionPool, test_id: UUID) -> dict[str, int]:
    """The takes of the test per MBTI type, by type name (types never computed are absent)."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT mbti, takes FROM test_stats WHERE test_id = %s AND takes > 0 ORDER BY mbti",
            (test_id,),
        ).fetchall()
    return {str(r["mbti"]): int(r["takes"]) for r in cast(list[dict[str, Any]], rows)}
