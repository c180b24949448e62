"""Chat rooms over REST: create, join, invite, leave, close; messages by keyset pages, post
(once per client id), edit and delete one's own; the assistant's settings for the caller. The
live room is `WS /chat/rooms/{id}`."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse

from api.deps import Command, ObjectStoreDep, SettingsDep, UserPrincipal, user_id_of
from api.reads import BIGINT_MAX, Reads, ReadsDep, caught_up
from api.schemas.chat import (
    AssistantSettings,
    AssistantSettingsView,
    Invite,
    MessageChanged,
    MessageEdit,
    MessagePage,
    MessagePost,
    MessageView,
    RoomChanged,
    RoomCreate,
    RoomView,
)
from domain.commands.chatroom import (
    CloseRoom,
    CreateRoom,
    DeleteMessage,
    EditMessage,
    InviteToRoom,
    JoinRoom,
    LeaveRoom,
    PostMessage,
)
from domain.commands.conversation import ChangeAssistantSettings
from domain.errors import NotFound
from domain.uploadsession import object_key
from eventstore.records import Outcome
from projections.chat.queries import get_message, get_message_position, get_room, list_messages

router = APIRouter(prefix="/chat/rooms", tags=["chat"])
READ_MODELS = ["chat"]
MinPosition = Annotated[int | None, caught_up(*READ_MODELS)]


@router.post("", response_model=RoomChanged, status_code=201)
def create_room(body: RoomCreate, principal: UserPrincipal, command: Command) -> RoomChanged:
    """A new room; its creator is its owner and first member."""
    run = CreateRoom(
        uuid.uuid4(),
        user_id_of(principal),
        body.name,
        body.private,
        body.posts_per_window,
        body.assistant,
    )
    return RoomChanged.from_outcome(command.run(run))


@router.get("/{room_id}", response_model=RoomView)
def get_chat_room(
    room_id: uuid.UUID, principal: UserPrincipal, reads: ReadsDep, min_position: MinPosition = None
) -> RoomView:
    """A public room, or a private one the caller is in (anyone else: 404)."""
    return RoomView(**visible_room(reads, room_id, user_id_of(principal)))


@router.post("/{room_id}/join", response_model=RoomChanged)
def join_room(room_id: uuid.UUID, principal: UserPrincipal, command: Command) -> RoomChanged:
    """Join a public room (joining again changes nothing)."""
    return RoomChanged.from_outcome(command.run(JoinRoom(room_id, user_id_of(principal))))


@router.post("/{room_id}/invite", response_model=RoomChanged)
def invite_to_room(
    room_id: uuid.UUID, body: Invite, principal: UserPrincipal, command: Command
) -> RoomChanged:
    """A member lets another user in (the way into a private room); 404 for an id no user has."""
    run = InviteToRoom(room_id, user_id_of(principal), body.user_id)
    return RoomChanged.from_outcome(command.run(run))


@router.post("/{room_id}/leave", response_model=RoomChanged)
def leave_room(room_id: uuid.UUID, principal: UserPrincipal, command: Command) -> RoomChanged:
    """Leave the room (its owner closes it instead)."""
    return RoomChanged.from_outcome(command.run(LeaveRoom(room_id, user_id_of(principal))))


@router.post("/{room_id}/close", response_model=RoomChanged)
def close_room(room_id: uuid.UUID, principal: UserPrincipal, command: Command) -> RoomChanged:
    """The owner closes the room: its messages stay, nothing more is posted."""
    return RoomChanged.from_outcome(command.run(CloseRoom(room_id, user_id_of(principal))))


@router.get("/{room_id}/messages", response_model=MessagePage)
def list_room_messages(
    room_id: uuid.UUID,
    principal: UserPrincipal,
    reads: ReadsDep,
    before: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="`next_before` of the last page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    min_position: MinPosition = None,
) -> MessagePage:
    """The room's messages, newest first, by keyset pages on their log position."""
    visible_room(reads, room_id, user_id_of(principal))
    rows = list_messages(reads.pool, room_id, before=before, limit=limit)
    next_before = rows[-1]["position"] if len(rows) == limit else None
    return MessagePage(messages=[MessageView(**r) for r in rows], next_before=next_before)


@router.post("/{room_id}/messages", response_model=MessageChanged, status_code=201)
def post_message(
    room_id: uuid.UUID,
    body: MessagePost,
    principal: UserPrincipal,
    command: Command,
    reads: ReadsDep,
) -> MessageChanged:
    """Post as a member, with one's completed upload attached if named; the same `client_id`
    again answers with the first post, posted once."""
    run = PostMessage(room_id, user_id_of(principal), body.client_id, body.text, body.upload_id)
    return posted(reads, command.run(run))


@router.get(
    "/{room_id}/messages/{message_id}/attachment",
    status_code=307,
    response_class=RedirectResponse,
    responses={307: {"description": "To a URL of the file's bytes, valid for a while."}},
)
def get_attachment(
    room_id: uuid.UUID,
    message_id: uuid.UUID,
    principal: UserPrincipal,
    reads: ReadsDep,
    store: ObjectStoreDep,
    settings: SettingsDep,
    min_position: MinPosition = None,
) -> RedirectResponse:
    """The file attached to a message of a room the caller can read (404 without one)."""
    visible_room(reads, room_id, user_id_of(principal))
    message = reads.find_or_not_found(
        READ_MODELS,
        lambda: get_message(reads.pool, room_id, message_id),
        f"message {message_id}",
    )
    attachment = message["attachment"]
    if not attachment or message["deleted_at"] is not None:
        raise NotFound(f"message {message_id} has no attachment")
    key = object_key(message["user_id"], uuid.UUID(attachment["upload_id"]))
    return RedirectResponse(store.presign_get(key, settings.upload_url_seconds), 307)


@router.patch("/{room_id}/messages/{message_id}", response_model=MessageChanged)
def edit_message(
    room_id: uuid.UUID,
    message_id: uuid.UUID,
    body: MessageEdit,
    principal: UserPrincipal,
    command: Command,
) -> MessageChanged:
    """Replace the text of one of the caller's messages."""
    run = EditMessage(room_id, user_id_of(principal), message_id, body.text)
    return MessageChanged.from_outcome(command.run(run))


@router.delete("/{room_id}/messages/{message_id}", response_model=MessageChanged)
def delete_message(
    room_id: uuid.UUID, message_id: uuid.UUID, principal: UserPrincipal, command: Command
) -> MessageChanged:
    """Delete one of the caller's messages (its row stays, without text)."""
    run = DeleteMessage(room_id, user_id_of(principal), message_id)
    return MessageChanged.from_outcome(command.run(run))


@router.put("/{room_id}/assistant", response_model=AssistantSettingsView)
def set_assistant_settings(
    room_id: uuid.UUID,
    body: AssistantSettings,
    principal: UserPrincipal,
    command: Command,
    settings: SettingsDep,
) -> AssistantSettingsView:
    """The language, tone and model the assistant answers the caller with in this room (a
    member); the model must be one the caller's plan allows."""
    run = ChangeAssistantSettings(
        user_id_of(principal),
        room_id,
        body.language,
        body.tone,
        body.model,
        settings.assistant_models,
    )
    available = settings.assistant_base_url is not None
    return AssistantSettingsView.from_outcome(command.run(run), available)


def visible_room(reads: Reads, room_id: uuid.UUID, user_id: uuid.UUID) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        return get_room(reads.pool, room_id, user_id)

    return reads.find_or_not_found(READ_MODELS, find, f"chat room {room_id}")


def posted(reads: Reads, outcome: Outcome[Any]) -> MessageChanged:
    """The answer to a post: a repeat names the position the message was first posted at."""
    answer = MessageChanged.from_outcome(outcome)
    if answer.new:
        return answer
    message_id = answer.message_id

    def find() -> int | None:
        return get_message_position(reads.pool, message_id)

    position = reads.find_or_not_found(READ_MODELS, find, f"message {message_id}")
    return answer.model_copy(update={"position": position})
