"""How far each projection is behind the event log."""

from typing import Any

import psycopg


def projection_status(dsn: str) -> list[dict[str, Any]]:
    """Each projection's position, the log head and the lag between them."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        head_row = conn.execute(
            "SELECT coalesce(max(notification_id), 0) FROM chronicle_events"
        ).fetchone()
        head = int(head_row[0]) if head_row else 0
        rows = conn.execute(
            "SELECT name, position, updated_at FROM projection_position ORDER BY name"
        ).fetchall()
    return [
        {
            "name": name,
            "position": position,
            "head": head,
            "lag": head - position,
            "updated_at": updated_at,
        }
        for name, position, updated_at in rows
    ]
