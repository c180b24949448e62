"""Schemas of chat rooms and messages (REST and WebSocket frames), and their presenters."""

from datetime import datetime
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.base import RequestBody
from domain.assistant import MAX_MODEL_NAME, TONES
from domain.chatroom import (
    MAX_CLIENT_ID,
    MAX_NAME,
    MAX_POSTS_PER_WINDOW,
    MAX_TEXT,
    POSTS_PER_WINDOW,
)
from eventstore.records import Outcome


class RoomCreate(RequestBody):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    private: bool = False
    posts_per_window: int = Field(
        default=POSTS_PER_WINDOW,
        ge=1,
        le=MAX_POSTS_PER_WINDOW,
        description="Messages a member may post in 10 s (429 rate_limited past it).",
    )
    assistant: bool = Field(
        default=False,
        description="One's own room with the assistant: private, every message asks it.",
    )


class Invite(RequestBody):
    user_id: UUID


class MessagePost(RequestBody):
    client_id: str = Field(
        min_length=1,
        max_length=MAX_CLIENT_ID,
        description="The client's own id for this message: sent again, it posts nothing twice.",
    )
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    upload_id: UUID | None = Field(
        default=None, description="One's completed upload session (`POST /uploads`) to attach."
    )


class MessageEdit(RequestBody):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class RoomChanged(BaseModel):
    room_id: UUID
    name: str
    private: bool
    owner_id: UUID
    members: int
    closed: bool
    assistant: bool = False  # outcomes stored before assistant rooms have none
    version: int
    position: int | None

    @classmethod
    def from_outcome(cls, outcome: Outcome[Any]) -> Self:
        return cls.model_validate({**outcome.record, "position": outcome.position})


class RoomView(BaseModel):
    room_id: UUID
    name: str
    private: bool
    owner_id: UUID
    members: int
    member: bool = Field(description="Whether the caller is a member.")
    closed: bool
    assistant: bool = Field(description="Every message asks the assistant.")
    created_at: datetime


class MessageChanged(BaseModel):
    room_id: UUID
    message_id: UUID
    client_id: str | None
    new: bool = Field(description="False when the client's id had posted it before.")
    position: int | None = Field(description="The change's log position (none if it was not new).")

    @classmethod
    def from_outcome(cls, outcome: Outcome[Any]) -> Self:
        position = outcome.position if outcome.record["new"] else None
        return cls.model_validate({**outcome.record, "position": position})


class Attachment(BaseModel):
    """A file attached to a message: `GET …/messages/{id}/attachment` redirects to its bytes."""

    upload_id: UUID
    content_type: str
    size: int
    sha256: str


class MessageView(BaseModel):
    message_id: UUID
    room_id: UUID
    position: int = Field(description="Where it was posted in the log: the order of messages.")
    user_id: UUID | None = Field(description="Who wrote it; None: the assistant.")
    client_id: str | None = Field(description="The sender's own id for it; None: the assistant.")
    text: str | None = Field(description="None once deleted.")
    posted_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    reply_to: UUID | None = Field(
        default=None, description="The assistant's reply: the message it answers."
    )
    outcome: Literal["complete", "interrupted", "unavailable", "quota_exceeded"] | None = Field(
        default=None,
        description="The assistant's reply: whole, cut off (`text` is what came before), "
        "or none (no assistant, or the daily quota of assistant turns spent).",
    )
    notice: str | None = Field(
        default=None, description="Why the assistant's reply is not complete, in plain words."
    )
    attachment: Attachment | None = None


class MessagePage(BaseModel):
    messages: list[MessageView] = Field(description="Newest first.")
    next_before: int | None = Field(description="Pass as `before` for the next (older) page.")


class RoomEvent(BaseModel):
    """A change of a room as a WebSocket sends it (`type` "event"), in log order."""

    type: Literal["event"] = "event"
    position: int
    event_type: str = Field(description="`ChatRoom.Posted`, `.Edited`, `.Deleted`, `.Joined`…")
    recorded_at: datetime
    data: dict[str, Any]


class AssistantSettings(RequestBody):
    language: str = Field(
        min_length=2, max_length=35, description="A language tag: `ko`, `en-GB`, `zh-Hant`."
    )
    tone: str = Field(default="neutral", max_length=20, description=f"One of {', '.join(TONES)}.")
    model: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_MODEL_NAME,
        description="One the plan allows (`CHRONICLE_ASSISTANT_MODELS_*`); none: the default.",
    )


class AssistantSettingsView(BaseModel):
    """What the assistant is given for the caller in a room (the conversation's settings)."""

    room_id: UUID
    language: str
    tone: str
    model: str | None = Field(description="None: the server's default model.")
    summary: str = Field(description="The running summary of the turns that no longer fit.")
    turns_kept: int
    available: bool = Field(description="Whether this server has an assistant at all.")
    version: int

    @classmethod
    def from_outcome(cls, outcome: Outcome[Any], available: bool) -> Self:
        return cls.model_validate({**outcome.record, "available": available})
