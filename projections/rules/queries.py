"""Queries on ``rules``: a user's live rules."""

from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

RULE_COLUMNS = "rule_id, name, preset, params, created_at, updated_at, version"


def list_rules(pool: ConnectionPool, user_id: UUID) -> list[dict[str, Any]]:
    """The user's rules, oldest first."""
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {RULE_COLUMNS} FROM rules WHERE user_id = %s ORDER BY created_at, rule_id",
            (user_id,),
        ).fetchall()
    return [dict(r) for r in rows]


def get_rule(pool: ConnectionPool, rule_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    """The user's rule, or None."""
    with pool.connection() as conn:
        row = conn.execute(
            f"SELECT {RULE_COLUMNS} FROM rules WHERE rule_id = %s AND user_id = %s",
            (rule_id, user_id),
        ).fetchone()
    return dict(row) if row else None
