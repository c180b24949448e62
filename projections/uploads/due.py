"""What the upload deadline finds due: sessions still open past their ``expires_at``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

EXPIRED_DUE = """
    SELECT session_id FROM upload_sessions WHERE state = 'open' AND expires_at <= %s
    ORDER BY expires_at LIMIT %s
"""


def expired_sessions(pool: ConnectionPool, now: datetime, limit: int) -> list[UUID]:
    """The open sessions whose deadline passed at ``now``, oldest deadline first."""
    with pool.connection() as conn:  # rows are dicts (the pool's row factory)
        rows: list[Any] = conn.execute(EXPIRED_DUE, (now, limit)).fetchall()
    return [row["session_id"] for row in rows]
