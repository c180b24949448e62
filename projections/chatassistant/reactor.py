"""The assistant in chat rooms: a reactor that answers every message that asks it.

A message asks when it mentions ``@assistant`` or is posted in an assistant room: the room
decided it when the message was posted (``Posted.asks_assistant``), so mentions recorded
before this reactor existed are never answered late. For each such message it asks
(``AskAssistant``: the question recorded in the asker's conversation and one assistant turn
counted against the plan's daily quota, in one save), streams the reply from the
``Assistant`` port, publishing partial frames as the words come
(``projections.chatassistant.partials``), and records the reply once (``AnswerInRoom``: the room's
event and the conversation's reply in one save). A reply is complete, interrupted (the stream
broke: what came before is kept), or a notice in plain words: no assistant is configured, it
is unavailable, the day's assistant turns are spent.

At least once, like every reactor: the question is asked under an idempotency key of its
message, so a delivery repeated after a crash finds it asked and not answered; the reply it
was streaming is lost with the process, so it is recorded interrupted, never half-written and
never asked twice. A message already answered is left alone.

A question may carry a file (``Posted.attachment``): a PNG, JPEG, WebP or GIF image up to
``image_max_bytes`` (told from its bytes, never its declared type) is shown to the model with
the question, as a ``data:`` URL, which every OpenAI-compatible server takes and no server
needs to reach our storage for; any other file is named in the question (its type and size),
so the assistant can say it cannot see it. The conversation remembers the question's words.

Once a reply is recorded, the turns that no longer fit the conversation's budget are
summarised by the same model (``Conversation.to_summarise``); a summary that fails is tried
again after the next reply.

Replies in different rooms stream at once: the runner offers each batch of questions to
``prepare``, which starts each room's questions, in order, on a thread of their own (at most
``concurrency`` rooms at a time); ``react`` then waits for its own question's answer, so the
reactor's position passes a question only once its reply is recorded. A question ``prepare``
did not start (a retry, a letter an admin retried) is answered by ``react`` itself. A room's
questions are answered one after another: its next one waits for the reply before it. (A
room with a parked letter is the exception: ``prepare`` may answer its later questions before
an admin retries the parked one.)
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace
from datetime import UTC
from typing import Any
from uuid import UUID

from adapters.assistant import Assistant
from adapters.storage import ObjectStore
from domain.assistant import MAX_REPLY, SYSTEM, USER, Turn
from domain.chatroom import (
    COMPLETE,
    INTERRUPTED,
    MAX_NOTICE,
    QUOTA_SPENT,
    UNAVAILABLE,
    ChatRoom,
    reply_id_for,
)
from domain.commands.conversation import AnswerInRoom, AskAssistant, Asked, Summarise
from domain.conversation import DEFAULT_CONTEXT_TOKENS, MAX_SUMMARY, Conversation, conversation_id
from domain.errors import AssistantInterrupted, AssistantUnavailable, QuotaExceeded
from domain.images import sniff
from domain.quotas import NO_QUOTAS, Quotas
from domain.uploadsession import object_key
from eventstore.executor import CommandExecutor
from eventstore.idempotency import Idempotency
from projections.chatassistant.partials import MAX_CHARS, Frame
from projections.engine.reactors import caused_by

log = logging.getLogger(__name__)
ACTOR = "system:chat-assistant"
FLUSH_SECONDS = 0.05  # partial frames: at most about 20 a second per reply
CONCURRENCY = 8  # rooms answered at once
IMAGE_MAX_BYTES = 5 * 1024 * 1024  # an attached image shown to the model, at most
NO_ASSISTANT = "No assistant is configured on this server, so nobody will answer."
RESTARTED = "The reply was interrupted: the server stopped while the assistant was answering."
CUT_OFF = "The reply was interrupted: the assistant's connection broke off."
TOO_LONG = f"The reply was cut at {MAX_REPLY} characters."
SUMMARY_PROMPT = (
    "Summarise the conversation below for your own later use, in at most 150 words, keeping "
    "facts, names, preferences and open questions. Write only the summary."
)


class ChatAssistant:
    """Answers the messages that mention the assistant, streaming, then recording once."""

    name = "chat_assistant"

    def __init__(
        self,
        executor: CommandExecutor,
        event_store: Any,
        assistant: Assistant | None,
        publish: Callable[[Frame], None],
        *,
        quotas: Quotas = NO_QUOTAS,
        budget: int = DEFAULT_CONTEXT_TOKENS,
        flush_seconds: float = FLUSH_SECONDS,
        concurrency: int = CONCURRENCY,
        object_store: ObjectStore | None = None,
        image_max_bytes: int = IMAGE_MAX_BYTES,
    ) -> None:
        self._executor = executor
        self._event_store = event_store
        self._assistant = assistant
        self._publish = publish
        self._quotas = quotas
        self._budget = budget
        self._flush_seconds = flush_seconds
        self._object_store = object_store
        self._image_max_bytes = image_max_bytes
        self._rooms_at_once = threading.BoundedSemaphore(max(1, concurrency))
        self._lock = threading.Lock()
        self._started: dict[int, Future[None]] = {}  # by log position, started by ``prepare``

    def handles(self, event: Any) -> bool:
        return isinstance(event, ChatRoom.Posted) and event.asks_assistant

    def prepare(self, events: Sequence[tuple[Any, int]]) -> None:
        """Start answering the batch's questions, each room's in order on a thread of its own."""
        by_room: dict[Any, list[tuple[Any, int, Future[None]]]] = {}
        with self._lock:
            for event, position in events:
                if position not in self._started:
                    future: Future[None] = Future()
                    self._started[position] = future
                    by_room.setdefault(event.originator_id, []).append((event, position, future))
        for questions in by_room.values():
            name = f"chat-assistant-{questions[0][0].originator_id}"
            threading.Thread(
                target=self._answer_room, args=(questions,), name=name, daemon=True
            ).start()

    def react(self, event: Any, position: int) -> None:
        with self._lock:
            started = self._started.pop(position, None)
        if started is not None:
            started.result()  # what its thread raised is this delivery's failure (then retried)
        else:
            self._answer(event, position)

    def _answer_room(self, questions: list[tuple[Any, int, Future[None]]]) -> None:
        with self._rooms_at_once:
            for event, position, future in questions:
                try:
                    self._answer(event, position)
                except BaseException as exc:  # handed to ``react``, which raises it
                    future.set_exception(exc)
                else:
                    future.set_result(None)

    def _answer(self, event: Any, position: int) -> None:
        """Ask, stream and record the reply to one question (idempotent: see the module)."""
        room_id, message_id = event.originator_id, event.message_id
        room: ChatRoom = self._event_store.repository.get(room_id)
        if room.is_answered(message_id):
            return  # a repeated delivery
        metadata = caused_by(event, position, actor=ACTOR)
        if self._assistant is None:
            self._record(room_id, message_id, None, "", UNAVAILABLE, NO_ASSISTANT, metadata)
            return
        images, note = self._attached(event)  # read before asking: a storage outage retries
        ask = AskAssistant(
            event.user_id,
            room_id,
            event.text,
            self._quotas,
            day=event.timestamp.astimezone(UTC).date().isoformat(),
            budget=self._budget,
        )
        try:
            outcome = self._executor.execute(
                ask, metadata=metadata, idempotency=Idempotency(f"chat-assistant:{message_id}", "")
            )
        except QuotaExceeded as exc:
            notice = str(exc)[:MAX_NOTICE]
            self._record(room_id, message_id, None, "", QUOTA_SPENT, notice, metadata)
            return
        if outcome.replayed:  # asked by a delivery that never recorded its reply: it crashed
            asked = int(outcome.result["asked"])
            self._record(room_id, message_id, asked, "", INTERRUPTED, RESTARTED, metadata)
            return
        *earlier, question = outcome.result.context
        shown = replace(question, content=question.content + note, images=images)
        text, result, notice = self._stream(room_id, message_id, [*earlier, shown], outcome.result)
        self._record(room_id, message_id, outcome.result.asked, text, result, notice, metadata)
        self._summarise(event.user_id, room_id, metadata)

    def _attached(self, event: Any) -> tuple[tuple[str, ...], str]:
        """The question's attached image as a ``data:`` URL, or a note naming another file."""
        attachment = event.attachment
        if not attachment:
            return (), ""
        size, content_type = attachment["size"], attachment["content_type"]
        if self._object_store is not None and size <= self._image_max_bytes:
            key = object_key(event.user_id, UUID(attachment["upload_id"]))
            data = self._object_store.get(key)
            image = sniff(data)
            if image is not None:
                encoded = base64.b64encode(data).decode("ascii")
                return (f"data:{image.content_type};base64,{encoded}",), ""
        return (), (
            f"\n\n(A file is attached: {content_type}, {size} bytes. It is not shown to you: "
            f"only PNG, JPEG, WebP and GIF images up to {self._image_max_bytes} bytes are.)"
        )

    def _stream(
        self, room_id: Any, message_id: Any, context: list[Turn], asked: Asked
    ) -> tuple[str, str, str]:
        """The reply's text, outcome and notice; partial frames published as it comes."""
        assert self._assistant is not None
        frames = _Frames(self._publish, room_id, message_id, self._flush_seconds)
        deltas = self._assistant.stream_reply(context, model=asked.model)
        try:
            for delta in deltas:
                if frames.length + len(delta) > MAX_REPLY:
                    frames.add(delta[: MAX_REPLY - frames.length])
                    return frames.text(), INTERRUPTED, TOO_LONG
                frames.add(delta)
        except AssistantInterrupted as exc:
            return exc.text[:MAX_REPLY], INTERRUPTED, CUT_OFF
        except AssistantUnavailable as exc:
            return "", UNAVAILABLE, f"The assistant is unavailable: {exc}"[:MAX_NOTICE]
        finally:
            getattr(deltas, "close", lambda: None)()  # the HTTP stream, when cut short
            frames.flush()
        return frames.text(), COMPLETE, ""

    def _record(
        self,
        room_id: Any,
        message_id: Any,
        asked: int | None,
        text: str,
        outcome: str,
        notice: str,
        metadata: dict[str, str],
    ) -> None:
        answer = AnswerInRoom(room_id, message_id, asked, text, outcome, notice)
        self._executor.execute(answer, metadata=metadata)

    def _summarise(self, user_id: Any, room_id: Any, metadata: dict[str, str]) -> None:
        """Summarise the turns that no longer fit the budget; a failure waits for next time."""
        assert self._assistant is not None
        conversation: Conversation = self._event_store.repository.get(
            conversation_id(user_id, room_id)
        )
        due = conversation.to_summarise(self._budget)
        if due is None:
            return
        lines = [f"Summary so far: {due.summary}"] if due.summary else []
        lines += [f"{turn.role}: {turn.content}" for turn in due.turns]
        messages = [Turn(SYSTEM, SUMMARY_PROMPT), Turn(USER, "\n".join(lines))]
        try:
            summary = "".join(self._assistant.stream_reply(messages, model=conversation.model))
            if summary.strip():
                command = Summarise(user_id, room_id, summary.strip()[:MAX_SUMMARY], due.through)
                self._executor.execute(command, metadata=metadata)
        except Exception as exc:
            log.warning("could not summarise a conversation of room %s: %s", room_id, exc)


class _Frames:
    """A reply's words as they come, published in frames of a few words each."""

    def __init__(
        self, publish: Callable[[Frame], None], room_id: Any, reply_to: Any, seconds: float
    ) -> None:
        self._publish = publish
        self._base = {
            "type": "partial",
            "room_id": str(room_id),
            "message_id": str(reply_id_for(room_id, reply_to)),
            "reply_to": str(reply_to),
        }
        self._seconds = seconds
        self._parts: list[str] = []
        self._pending = ""
        self._seq = 0
        self._sent_at = time.monotonic()
        self.length = 0

    def add(self, delta: str) -> None:
        self._parts.append(delta)
        self._pending += delta
        self.length += len(delta)
        if len(self._pending) >= MAX_CHARS or time.monotonic() - self._sent_at >= self._seconds:
            self.flush()

    def flush(self) -> None:
        while self._pending:
            text, self._pending = self._pending[:MAX_CHARS], self._pending[MAX_CHARS:]
            try:
                self._publish({**self._base, "seq": self._seq, "text": text})
            except Exception as exc:  # partial frames are a courtesy: the reply is recorded
                log.warning("could not publish a partial reply: %s", exc)
            self._seq += 1
        self._sent_at = time.monotonic()

    def text(self) -> str:
        return "".join(self._parts)
