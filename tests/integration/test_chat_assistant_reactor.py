"""The chat assistant reactor on a real event store: a delivery that dies mid-reply is recorded
interrupted by the next, never asked twice; a repeated delivery records nothing; the turns
that no longer fit are summarised by the model."""

from __future__ import annotations

import json
import signal
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from domain.assistant import Turn
from domain.chatroom import ChatRoom
from domain.commands import usercredits as credits
from domain.commands.chatroom import CreateRoom, PostMessage
from domain.conversation import conversation_id
from domain.quotas import ASSISTANT_TURNS, Quotas
from projections.chatassistant import partials
from projections.chatassistant.reactor import RESTARTED, ChatAssistant
from tests.assistantserver import Answer, assistant_server
from tests.conftest import wait_until
from tests.fakes import ScriptedAssistant
from tests.integration.crash import run_projector_process

QUOTAS = Quotas({"free": {ASSISTANT_TURNS: 10}})


class Died(BaseException):
    """The process died mid-reply (nothing below the reactor catches it)."""


class DiesMidReply(ScriptedAssistant):
    """Streams its first words, then the process dies."""

    def stream_reply(self, messages: list[Turn], **options: Any) -> Iterator[str]:
        self.calls.append((list(messages), None, None))
        yield "Half a"
        raise Died


def _asked(executor: Any, text: str = "@assistant where to?") -> tuple[Any, int]:
    """A room with one question in it: its id and the question's log position."""
    user_id, room_id = uuid.uuid4(), uuid.uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    executor.execute(CreateRoom(room_id, user_id, "Trips", False))
    outcome = executor.execute(PostMessage(room_id, user_id, "q-1", text))
    return room_id, outcome.position


def _posted(app: Any, room_id: Any) -> Any:
    return next(e for e in app.events.get(room_id) if isinstance(e, ChatRoom.Posted))


@pytest.fixture
def frames() -> list[dict[str, Any]]:
    return []


def reactor(executor: Any, app: Any, assistant: Any, frames: list[dict[str, Any]]) -> ChatAssistant:
    return ChatAssistant(executor, app, assistant, frames.append, quotas=QUOTAS, flush_seconds=0)


def test_a_delivery_that_died_mid_reply_is_recorded_interrupted_by_the_next(executor, app, frames):
    room_id, position = _asked(executor)
    event = _posted(app, room_id)
    with pytest.raises(Died):
        reactor(executor, app, DiesMidReply(), frames).react(event, position)
    assert [f["text"] for f in frames] == ["Half a"]  # the words were shown live
    assert not app.repository.get(room_id).is_answered(event.message_id)

    after_restart = ScriptedAssistant("Never", " sent")
    reactor(executor, app, after_restart, frames).react(event, position)

    room = app.repository.get(room_id)
    [reply] = [e for e in app.events.get(room_id) if isinstance(e, ChatRoom.AssistantReplied)]
    assert (reply.outcome, reply.text, reply.notice) == ("interrupted", "", RESTARTED)
    assert room.is_answered(event.message_id)
    assert after_restart.calls == []  # not asked twice
    conversation = app.repository.get(conversation_id(event.user_id, room_id))
    assert conversation.pending is None and conversation.last_reply == [0, "", False]
    assert app.repository.get(event.user_id).used(ASSISTANT_TURNS, _day(event)) == 1


def test_a_repeated_delivery_records_nothing_and_asks_nothing(executor, app, frames):
    room_id, position = _asked(executor)
    event = _posted(app, room_id)
    first = ScriptedAssistant("Go", " north.")
    reactor(executor, app, first, frames).react(event, position)
    version = app.repository.get(room_id).version

    again = ScriptedAssistant("Go", " south.")
    reactor(executor, app, again, frames).react(event, position)

    assert app.repository.get(room_id).version == version
    assert again.calls == [] and len(first.calls) == 1
    [reply] = [e for e in app.events.get(room_id) if isinstance(e, ChatRoom.AssistantReplied)]
    assert (reply.text, reply.outcome) == ("Go north.", "complete")


def test_turns_past_the_budget_are_summarised_by_the_model(executor, app, frames):
    user_id, room_id = uuid.uuid4(), uuid.uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    executor.execute(CreateRoom(room_id, user_id, "Trips", False))
    assistant = ScriptedAssistant("A long answer " * 20)
    small = ChatAssistant(executor, app, assistant, frames.append, quotas=QUOTAS, budget=200)
    for n in range(3):
        outcome = executor.execute(PostMessage(room_id, user_id, f"q-{n}", f"@assistant {n}?"))
        posted = [e for e in app.events.get(room_id) if isinstance(e, ChatRoom.Posted)][-1]
        small.react(posted, outcome.position)

    conversation = app.repository.get(conversation_id(user_id, room_id))
    summaries = [c for c in assistant.calls if c[0][0].content.startswith("Summarise")]
    assert summaries, "a summary was asked for"
    assert conversation.summary.startswith("A long answer")
    assert conversation.summarised_through > 0
    assert "@assistant 0?" in summaries[0][0][1].content


def _day(event: Any) -> str:
    from datetime import UTC

    return event.timestamp.astimezone(UTC).date().isoformat()


def test_a_process_killed_mid_reply_leaves_an_interrupted_reply_once_restarted(
    executor, app, clean_dsn
):
    room_id, _ = _asked(executor, "@assistant tell me a long story")
    event = _posted(app, room_id)
    with assistant_server(models=("small",)) as fake:
        fake.then(Answer(tokens=("Once", " upon", " a", " time") * 50, token_delay=0.2))
        env = {
            "CHRONICLE_ASSISTANT_BASE_URL": fake.base_url,
            "CHRONICLE_ASSISTANT_MODEL": "small",
            "CHRONICLE_QUOTA_ASSISTANT_TURNS_PER_DAY_FREE": "10",
        }
        with psycopg.connect(clean_dsn, autocommit=True) as listener:
            listener.execute(f"LISTEN {partials.CHANNEL}")
            process = run_projector_process(clean_dsn, batch_size=100, extra_env=env)
            try:
                first = next(listener.notifies(timeout=60), None)  # words shown live
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait()
        assert first is not None and json.loads(first.payload)["text"].startswith("Once")
        assert not app.repository.get(room_id).is_answered(event.message_id)

        process = run_projector_process(clean_dsn, batch_size=100, extra_env=env)
        try:
            wait_until(
                lambda: app.repository.get(room_id).is_answered(event.message_id),
                timeout=60,
                what="the restarted reactor to record the reply",
            )
        finally:
            process.terminate()
            process.wait()

    [reply] = [e for e in app.events.get(room_id) if isinstance(e, ChatRoom.AssistantReplied)]
    assert (reply.outcome, reply.text, reply.notice) == ("interrupted", "", RESTARTED)
    assert len(fake.requests) == 1  # asked once, whatever the restarts


class MeetsAnother(ScriptedAssistant):
    """Answers only once another reply is streaming at the same time (else it fails)."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__("Together.")
        self._barrier = barrier

    def stream_reply(self, messages: list[Turn], **options: Any) -> Iterator[str]:
        self.calls.append((list(messages), None, None))
        self._barrier.wait()  # BrokenBarrierError after its timeout: replies ran one by one
        yield "Together."


def test_questions_in_two_rooms_are_answered_at_once(executor, app, frames):
    first_room, first_at = _asked(executor, "@assistant one?")
    second_room, second_at = _asked(executor, "@assistant two?")
    meets = MeetsAnother(threading.Barrier(2, timeout=20))
    both = reactor(executor, app, meets, frames)
    batch = [(_posted(app, first_room), first_at), (_posted(app, second_room), second_at)]

    both.prepare(batch)
    for event, position in batch:
        both.react(event, position)

    for room_id in (first_room, second_room):
        [reply] = [e for e in app.events.get(room_id) if isinstance(e, ChatRoom.AssistantReplied)]
        assert (reply.text, reply.outcome) == ("Together.", "complete")


def test_two_questions_in_one_room_are_answered_in_order(executor, app, frames):
    room_id, first_at = _asked(executor, "@assistant one?")
    owner = _posted(app, room_id).user_id
    second_at = executor.execute(PostMessage(room_id, owner, "q-2", "@assistant two?")).position
    posted = [e for e in app.events.get(room_id) if isinstance(e, ChatRoom.Posted)]
    assistant = ScriptedAssistant("Yes.")
    ordered = reactor(executor, app, assistant, frames)

    ordered.prepare([(posted[0], first_at), (posted[1], second_at)])
    ordered.react(posted[0], first_at)
    ordered.react(posted[1], second_at)

    second_context = [t.content for t in assistant.calls[1][0][1:]]
    assert second_context == ["@assistant one?", "Yes.", "@assistant two?"]
