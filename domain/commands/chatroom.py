"""Use cases on ChatRoom: create, join, invite, leave, post, edit, delete, close.

A private room is not found by anyone but its members; every change of a room is saved by
the one executor, so one room's messages are ordered by the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.base import Aggregates
from domain.chatroom import POSTS_PER_WINDOW, ChatRoom, utcnow
from domain.commands.uploadsession import own_session
from domain.errors import NotFound
from domain.uploadsession import UploadSession
from domain.usercredits import UserCredits


@dataclass(frozen=True)
class RoomState:
    """A room as a command left it."""

    room_id: UUID
    name: str
    private: bool
    owner_id: UUID
    members: int
    closed: bool
    assistant: bool
    version: int

    @classmethod
    def of(cls, room: ChatRoom) -> RoomState:
        return cls(
            room.id, room.name, room.private, room.owner_id, len(room.members), room.closed,
            room.assistant, room.version,
        )  # fmt: skip


@dataclass(frozen=True)
class MessageState:
    """A message a command posted, changed or found already posted (``new`` False)."""

    room_id: UUID
    message_id: UUID
    client_id: str | None
    new: bool


@dataclass(frozen=True)
class CreateRoom:
    room_id: UUID
    user_id: UUID
    name: str
    private: bool
    posts_per_window: int = POSTS_PER_WINDOW
    assistant: bool = False

    def __call__(self, aggregates: Aggregates) -> RoomState:
        room = ChatRoom.create(
            self.room_id,
            self.name,
            self.private,
            self.user_id,
            self.posts_per_window,
            assistant=self.assistant,
        )
        aggregates.add(room)
        return RoomState.of(room)


@dataclass(frozen=True)
class JoinRoom:
    room_id: UUID
    user_id: UUID

    def __call__(self, aggregates: Aggregates) -> RoomState:
        room = aggregates.get(ChatRoom, self.room_id)
        room.join(self.user_id)
        return RoomState.of(room)


@dataclass(frozen=True)
class InviteToRoom:
    room_id: UUID
    member_id: UUID
    user_id: UUID

    def __call__(self, aggregates: Aggregates) -> RoomState:
        room = aggregates.get(ChatRoom, self.room_id)
        # Every user has an account (sign-up opens it): a made-up id would take a member's place.
        if aggregates.find(UserCredits, self.user_id) is None:
            raise NotFound(f"user {self.user_id} not found")
        room.invite(self.member_id, self.user_id)
        return RoomState.of(room)


@dataclass(frozen=True)
class LeaveRoom:
    room_id: UUID
    user_id: UUID

    def __call__(self, aggregates: Aggregates) -> RoomState:
        room = aggregates.get(ChatRoom, self.room_id)
        room.leave(self.user_id)
        return RoomState.of(room)


@dataclass(frozen=True)
class CloseRoom:
    room_id: UUID
    user_id: UUID

    def __call__(self, aggregates: Aggregates) -> RoomState:
        room = aggregates.get(ChatRoom, self.room_id)
        room.close(self.user_id)
        return RoomState.of(room)


@dataclass(frozen=True)
class PostMessage:
    """Post a message, with the poster's completed upload ``upload_id`` attached if given (the
    session records it in the same save); the same ``client_id`` again posts nothing."""

    room_id: UUID
    user_id: UUID
    client_id: str
    text: str
    upload_id: UUID | None = None

    def __call__(self, aggregates: Aggregates) -> MessageState:
        room = aggregates.get(ChatRoom, self.room_id)
        session = None
        if self.upload_id is not None:
            session = own_session(aggregates, self.upload_id, self.user_id)
            session.require_completed()
        attachment = attachment_of(session) if session else None
        version = room.version
        message_id = room.post(self.user_id, self.client_id, self.text, utcnow(), attachment)
        new = room.version != version
        if new and session is not None:
            session.attach_to_message(self.room_id, message_id)
        return MessageState(self.room_id, message_id, self.client_id, new)


def attachment_of(session: UploadSession) -> dict[str, Any]:
    """What a message keeps of the file attached to it (its key follows from owner and id)."""
    return {
        "upload_id": str(session.id),
        "content_type": session.content_type,
        "size": session.size,
        "sha256": session.sha256,
    }


@dataclass(frozen=True)
class EditMessage:
    room_id: UUID
    user_id: UUID
    message_id: UUID
    text: str

    def __call__(self, aggregates: Aggregates) -> MessageState:
        room = aggregates.get(ChatRoom, self.room_id)
        room.edit(self.user_id, self.message_id, self.text)
        return MessageState(self.room_id, self.message_id, None, True)


@dataclass(frozen=True)
class DeleteMessage:
    room_id: UUID
    user_id: UUID
    message_id: UUID

    def __call__(self, aggregates: Aggregates) -> MessageState:
        room = aggregates.get(ChatRoom, self.room_id)
        version = room.version
        room.delete(self.user_id, self.message_id)
        return MessageState(self.room_id, self.message_id, None, room.version != version)
