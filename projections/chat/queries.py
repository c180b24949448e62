"""A room, whether a user is in it, and its messages newest first by keyset pages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg_pool import ConnectionPool

MESSAGE_COLUMNS = (
    "message_id, room_id, position, user_id, client_id, text, posted_at, edited_at, deleted_at, "
    "reply_to, outcome, notice, attachment"
)


def get_room(pool: ConnectionPool, room_id: UUID, user_id: UUID) -> dict[str, Any] | None:
    """The room with ``member`` (whether ``user_id`` is in it); None if it does not exist or is
    private and ``user_id`` is not a member (its existence does not leak)."""
    with pool.connection() as conn:
        row: dict[str, Any] | None = conn.execute(  # type: ignore[assignment]
            "SELECT r.room_id, r.name, r.private, r.owner_id, r.closed, r.created_at, r.assistant, "
            "(SELECT count(*) FROM chat_members m WHERE m.room_id = r.room_id) AS members, "
            "EXISTS (SELECT 1 FROM chat_members m WHERE m.room_id = r.room_id "
            "AND m.user_id = %s) AS member FROM chat_rooms r WHERE r.room_id = %s",
            (user_id, room_id),
        ).fetchone()
    if row is None or (row["private"] and not row["member"]):
        return None
    return dict(row)


def list_messages(
    pool: ConnectionPool, room_id: UUID, *, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """The newest ``limit`` messages of the room below position ``before``, newest first."""
    with pool.connection() as conn:
        rows = conn.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE room_id = %s "
            "AND position < %s ORDER BY position DESC LIMIT %s",
            (room_id, before if before is not None else 2**63 - 1, limit),
        ).fetchall()
    return [dict(r) for r in rows]


def get_message(pool: ConnectionPool, room_id: UUID, message_id: UUID) -> dict[str, Any] | None:
    """One message of the room, or None."""
    with pool.connection() as conn:
        row: dict[str, Any] | None = conn.execute(  # type: ignore[assignment]
            f"SELECT {MESSAGE_COLUMNS} FROM chat_messages WHERE room_id = %s AND message_id = %s",
            (room_id, message_id),
        ).fetchone()
    return dict(row) if row else None


def get_message_position(pool: ConnectionPool, message_id: UUID) -> int | None:
    """The log position a message was posted at, or None."""
    with pool.connection() as conn:
        row: dict[str, Any] | None = conn.execute(  # type: ignore[assignment]
            "SELECT position FROM chat_messages WHERE message_id = %s", (message_id,)
        ).fetchone()
    return int(row["position"]) if row else None
