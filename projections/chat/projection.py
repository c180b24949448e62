"""``chat_rooms``, ``chat_members``, ``chat_messages``: each room, who is in it, what was said.

A message keeps the log position it was posted at: pages and live streams order by it. An
edit or a delete changes the row in place (a deleted message keeps its row, without text). The
assistant's reply is a message no member wrote (``user_id`` null) that names the message it
answers (``reply_to``), its ``outcome`` and, unless complete, a ``notice``. A message may carry
a file (``attachment``: the upload's id, content type, size and SHA-256).
"""

from typing import Any

from psycopg import Cursor
from psycopg.types.json import Jsonb

from domain.chatroom import ChatRoom


class ChatProjection:
    """Keeps the chat tables equal to the fold of the ChatRoom events."""

    name = "chat"
    tables = ("chat_rooms", "chat_members", "chat_messages")  # what a rebuild recreates
    handles = (ChatRoom.Event,)

    def project(self, cur: Cursor[Any], position: int, event: Any) -> None:
        room_id, at = event.originator_id, event.timestamp
        if isinstance(event, ChatRoom.Created):
            cur.execute(
                "INSERT INTO chat_rooms (room_id, name, private, owner_id, closed, created_at, "
                "position, assistant) VALUES (%s, %s, %s, %s, false, %s, %s, %s)",
                (room_id, event.name, event.private, event.owner_id, at, position, event.assistant),
            )
            self._join(cur, room_id, event.owner_id, at)
        elif isinstance(event, ChatRoom.Joined):
            self._join(cur, room_id, event.user_id, at)
        elif isinstance(event, ChatRoom.Left):
            cur.execute(
                "DELETE FROM chat_members WHERE room_id = %s AND user_id = %s",
                (room_id, event.user_id),
            )
        elif isinstance(event, ChatRoom.Posted):
            cur.execute(
                "INSERT INTO chat_messages (message_id, room_id, position, user_id, client_id, "
                "text, posted_at, attachment) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (event.message_id, room_id, position, event.user_id, event.client_id,
                 event.text, at, Jsonb(event.attachment) if event.attachment else None),
            )  # fmt: skip
        elif isinstance(event, ChatRoom.AssistantReplied):
            cur.execute(
                "INSERT INTO chat_messages (message_id, room_id, position, text, posted_at, "
                "reply_to, outcome, notice) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (event.message_id, room_id, position, event.text, at, event.in_reply_to,
                 event.outcome, event.notice or None),
            )  # fmt: skip
        elif isinstance(event, ChatRoom.Edited):
            cur.execute(
                "UPDATE chat_messages SET text = %s, edited_at = %s WHERE message_id = %s",
                (event.text, at, event.message_id),
            )
        elif isinstance(event, ChatRoom.Deleted):
            cur.execute(
                "UPDATE chat_messages SET text = NULL, deleted_at = %s WHERE message_id = %s",
                (at, event.message_id),
            )
        elif isinstance(event, ChatRoom.Closed):
            cur.execute("UPDATE chat_rooms SET closed = true WHERE room_id = %s", (room_id,))

    @staticmethod
    def _join(cur: Cursor[Any], room_id: Any, user_id: Any, at: Any) -> None:
        cur.execute(
            "INSERT INTO chat_members (room_id, user_id, joined_at) VALUES (%s, %s, %s)",
            (room_id, user_id, at),
        )
