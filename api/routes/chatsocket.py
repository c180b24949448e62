"""`WS /chat/rooms/{id}`: a room live, and posting to it, over one WebSocket.

Connect with the user's token (`?token=` or an `Authorization: Bearer` header). The server
first sends the room's last messages (`{"type": "history", "messages": [...], "position": P}`,
oldest first, from the read model at position P), then every change of the room after P as it
commits, in log order (`{"type": "event", "position", "event_type", "recorded_at", "data"}`).
While the assistant answers a message that mentions `@assistant`, its words come as they are
generated: `{"type": "partial", "message_id", "reply_to", "seq", "text"}` (`text` is the words
since frame `seq - 1`; partial frames are not kept, a late or resumed client does not get
them), then the reply itself, once, as the event `ChatRoom.AssistantReplied`.
After a drop, connect with `?after=<the last position seen>` instead: every change after it,
each once. Broadcast comes from the log through the process's live tail, never from one
process's memory, so clients on different API processes see the same sequence.

Client frames (JSON): `{"type": "post", "client_id", "text", "upload_id"?}` (a completed
upload of the sender's to attach) → `{"type": "ack", "client_id", "message_id", "position",
"new"}` once the post is durable (the same `client_id` again is
acknowledged with the first post's position, posted once); `{"type": "edit", "message_id",
"text"}`, `{"type": "delete", "message_id"}` → `{"type": "ack", ...}`; `{"type": "ping"}` →
`{"type": "pong"}`. A bad frame (binary included) gets `{"type": "error", "code", "message"}`
and the connection stays open. A client that stops reading is closed (1013) and resumes by
position; a stopping server closes with 1012.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from contextlib import aclosing
from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Query, WebSocket
from pydantic import Field, TypeAdapter, ValidationError

from api.auth import Principal
from api.errors import close_reason
from api.reads import BIGINT_MAX, Reads
from api.schemas.base import RequestBody
from api.schemas.chat import MessageChanged, MessageView, RoomEvent
from api.services import Services
from api.streams import Ended, encoded_once, rows_after
from domain.chatroom import MAX_CLIENT_ID, MAX_TEXT
from domain.commands.chatroom import DeleteMessage, EditMessage, PostMessage
from domain.errors import ChronicleError, Forbidden, NotFound, Unauthenticated
from projections.audit.queries import EventFilter
from projections.chat.queries import get_message_position, get_room, list_messages

router = APIRouter(tags=["chat"])
log = logging.getLogger(__name__)
READ_MODELS = ["chat"]
HISTORY = 50  # messages sent on joining
MAX_FRAME = 64 * 1024
UNAUTHORIZED, FORBIDDEN, NOT_FOUND, TOO_SLOW, RESTARTING = 4401, 4403, 4404, 1013, 1012


class Post(RequestBody):
    type: Literal["post"]
    client_id: str = Field(min_length=1, max_length=MAX_CLIENT_ID)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    upload_id: uuid.UUID | None = None


class Edit(RequestBody):
    type: Literal["edit"]
    message_id: uuid.UUID
    text: str = Field(min_length=1, max_length=MAX_TEXT)


class Delete(RequestBody):
    type: Literal["delete"]
    message_id: uuid.UUID


class Ping(RequestBody):
    type: Literal["ping"]


FRAME: TypeAdapter[Post | Edit | Delete | Ping] = TypeAdapter(
    Annotated[Post | Edit | Delete | Ping, Field(discriminator="type")]
)


@router.websocket("/chat/rooms/{room_id}")
async def chat_room_socket(
    websocket: WebSocket,
    room_id: uuid.UUID,
    after: Annotated[int | None, Query(ge=0, le=BIGINT_MAX)] = None,
    token: str | None = None,
) -> None:
    services: Services = websocket.app.state.services
    reads = Reads.of(services)
    # Accepted before it is checked: a refusal closes with its code and reason, which a browser's
    # WebSocket reads; one refused at the handshake reaches it as 1006, with neither.
    await websocket.accept()
    try:
        principal = _principal(services, websocket, token)
        user_id = uuid.UUID(principal.subject)
        await anyio.to_thread.run_sync(_visible, reads, room_id, user_id)
    except (Unauthenticated, ValueError) as exc:
        return await websocket.close(UNAUTHORIZED, reason=close_reason(str(exc)))
    except Forbidden as exc:
        return await websocket.close(FORBIDDEN, reason=close_reason(str(exc)))
    except NotFound as exc:
        return await websocket.close(NOT_FOUND, reason=close_reason(str(exc)))
    socket = _Socket(websocket, services, reads, room_id, user_id, principal.actor)
    await socket.serve(after)


class _Socket:
    """One client's connection to one room: its sends serialised, its live feed, its posts."""

    def __init__(
        self,
        websocket: WebSocket,
        services: Services,
        reads: Reads,
        room_id: uuid.UUID,
        user_id: uuid.UUID,
        actor: str,
    ) -> None:
        self.websocket, self.services, self.reads = websocket, services, reads
        self.room_id, self.user_id = room_id, user_id
        connection = uuid.uuid4().hex
        self.metadata = {
            "actor": actor,
            "correlation_id": connection,
            "causation_id": f"websocket:{connection}",
        }
        self.sending = asyncio.Lock()
        self.cut = asyncio.Event()

    async def send(self, frame: dict[str, Any] | str) -> None:
        """Send ``frame`` (JSON already, or to encode), one frame at a time."""
        text = frame if isinstance(frame, str) else json.dumps(frame, default=str)
        async with self.sending:
            await self.websocket.send_text(text)

    async def serve(self, after: int | None) -> None:
        start = after if after is not None else await self._history()
        tasks = [
            asyncio.create_task(self._live(start)),
            asyncio.create_task(self._receive()),
            asyncio.create_task(self.cut.wait()),
            asyncio.create_task(self._partials()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
        if tasks[2] in done:  # the client stopped reading: cut, it resumes by position
            log.warning("closed a chat socket of room %s: its client read too slowly", self.room_id)
            await self.websocket.close(TOO_SLOW, reason="too slow: reconnect with ?after=")

    async def _history(self) -> int:
        """Send the newest messages as of the log's head now; that position."""
        head = await anyio.to_thread.run_sync(self.reads.head)
        await self.reads.reach(READ_MODELS, head, check_head=False)
        rows = await anyio.to_thread.run_sync(
            lambda: list_messages(self.reads.pool, self.room_id, before=head + 1, limit=HISTORY)
        )
        messages = [MessageView(**row).model_dump(mode="json") for row in reversed(rows)]
        await self.send({"type": "history", "messages": messages, "position": head})
        return head

    async def _live(self, start: int) -> None:
        feed = EventFilter(aggregate_id=self.room_id)
        streams = self.services.streams
        assert streams is not None
        rows = rows_after(
            streams, self.reads, feed, start, applied_by=READ_MODELS, on_cut=self.cut.set
        )
        async with aclosing(rows):  # cancelled mid-send, it still leaves the tail at once
            async for row in rows:
                if isinstance(row, Ended):
                    if row.closed:
                        await self.websocket.close(RESTARTING, reason="server restarting")
                    else:
                        self.cut.set()
                    return
                if row is not None:  # encoded once for every socket of the process
                    await self.send(encoded_once(row, RoomEvent))

    async def _partials(self) -> None:
        """The assistant's words in this room as they come (never ends by itself)."""
        streams = self.services.streams
        assert streams is not None
        queue = streams.partials.subscribe(self.room_id)
        try:
            while True:
                frame = await queue.get()
                await self.send({k: v for k, v in frame.items() if k != "room_id"})
        finally:
            streams.partials.unsubscribe(self.room_id, queue)

    async def _receive(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:  # a binary frame
                await self._error("invalid_frame", "a frame is JSON text, not binary")
                continue
            await self._answer(text)

    async def _answer(self, text: str) -> None:
        if len(text) > MAX_FRAME:
            await self._error("frame_too_large", f"a frame has at most {MAX_FRAME} characters")
            return
        try:
            frame = FRAME.validate_json(text)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'frame'}: {e['msg']}" for e in exc.errors()
            )
            await self._error("invalid_frame", problems[:500])
            return
        if isinstance(frame, Ping):
            await self.send({"type": "pong"})
            return
        try:
            ack = await anyio.to_thread.run_sync(self._run, frame)
        except ChronicleError as exc:
            client_id = frame.client_id if isinstance(frame, Post) else None
            await self._error(exc.code, str(exc), client_id=client_id)
            return
        await self.send({"type": "ack", **ack.model_dump(mode="json")})

    def _run(self, frame: Post | Edit | Delete) -> MessageChanged:
        if isinstance(frame, Post):
            command: Any = PostMessage(
                self.room_id, self.user_id, frame.client_id, frame.text, frame.upload_id
            )
        elif isinstance(frame, Edit):
            command = EditMessage(self.room_id, self.user_id, frame.message_id, frame.text)
        else:
            command = DeleteMessage(self.room_id, self.user_id, frame.message_id)
        outcome = self.services.executor.execute(command, metadata=self.metadata)
        answer = MessageChanged.from_outcome(outcome)
        if isinstance(frame, Post) and not answer.new:  # acknowledged before: its position
            position = self.reads.find_or_not_found(
                READ_MODELS,
                lambda: get_message_position(self.reads.pool, answer.message_id),
                f"message {answer.message_id}",
            )
            answer = answer.model_copy(update={"position": position})
        return answer

    async def _error(self, code: str, message: str, **extra: Any) -> None:
        await self.send({"type": "error", "code": code, "message": message, **extra})


def _principal(services: Services, websocket: WebSocket, token: str | None) -> Principal:
    header = websocket.headers.get("authorization", "")
    if token is None and header.lower().startswith("bearer "):
        token = header[7:].strip()
    if not token:
        raise Unauthenticated("a token is required: ?token= or Authorization: Bearer")
    principal = services.tokens.verify(token)
    principal.require("user")
    return principal


def _visible(reads: Reads, room_id: uuid.UUID, user_id: uuid.UUID) -> None:
    reads.find_or_not_found(
        READ_MODELS, lambda: get_room(reads.pool, room_id, user_id), f"chat room {room_id}"
    )
