"""Conversation use cases through the real executor, in memory: a question counts one
assistant turn on the user's credits in the same save."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError, Application

from domain.assistant import SYSTEM, USER, AssistantModels, Turn
from domain.commands import conversation as conversations
from domain.conversation import conversation_id
from domain.errors import IllegalTransition, InvalidCommand, NotAMember, NotFound, QuotaExceeded
from domain.quotas import ASSISTANT_TURNS, Quotas

DAY = "2026-12-05"
TWO_A_DAY = Quotas({"free": {ASSISTANT_TURNS: 2}})
ROOM = UUID("00000000-0000-4000-8000-0000000000e1")


def ask(user: UUID, text: str, day: str = DAY) -> conversations.AskAssistant:
    return conversations.AskAssistant(user, ROOM, text, TWO_A_DAY, day)


def reply(user: UUID, asked: int, text: str = "Sure.") -> conversations.RecordReply:
    return conversations.RecordReply(user, ROOM, asked, text, complete=True)


def test_a_question_and_its_assistant_turn_are_saved_together(
    run: Any, memory_app: Application, user: UUID
) -> None:
    asked = run(ask(user, "Plan my trip?"))

    conversation = memory_app.repository.get(conversation_id(user, ROOM))
    assert conversation.pending == asked.asked == 0
    assert memory_app.repository.get(user).used(ASSISTANT_TURNS, DAY) == 1
    assert (asked.turns_used, asked.day) == (1, DAY)


def test_the_answer_carries_the_context_to_send_with_the_question_last(
    run: Any, user: UUID
) -> None:
    run(reply(user, run(ask(user, "Hi")).asked, "Hello"))

    asked = run(ask(user, "Plan my trip?"))

    assert [t.role for t in asked.context] == [SYSTEM, USER, "assistant", USER]
    assert asked.context[-1] == Turn(USER, "Plan my trip?")
    assert asked.model is None


def test_a_question_past_the_daily_quota_is_refused_and_saves_nothing(
    run: Any, memory_app: Application, user: UUID
) -> None:
    run(reply(user, run(ask(user, "one")).asked))
    run(reply(user, run(ask(user, "two")).asked))
    version = memory_app.repository.get(conversation_id(user, ROOM)).version

    with pytest.raises(QuotaExceeded, match="allows 2 assistant turns a day; 2 used"):
        run(ask(user, "three"))

    assert memory_app.repository.get(conversation_id(user, ROOM)).version == version
    assert memory_app.repository.get(user).used(ASSISTANT_TURNS, DAY) == 2
    assert run(ask(user, "three", day="2026-12-06")).turns_used == 1


def test_a_first_question_past_the_quota_starts_no_conversation(
    run: Any, memory_app: Application, user: UUID
) -> None:
    none_a_day = Quotas({"free": {ASSISTANT_TURNS: 0}})

    with pytest.raises(QuotaExceeded):
        run(conversations.AskAssistant(user, ROOM, "Hi", none_a_day, DAY))

    with pytest.raises(AggregateNotFoundError):
        memory_app.repository.get(conversation_id(user, ROOM))


def test_a_question_refused_while_a_reply_is_pending_uses_no_quota(
    run: Any, memory_app: Application, user: UUID
) -> None:
    run(ask(user, "one"))

    with pytest.raises(IllegalTransition):
        run(ask(user, "two"))

    assert memory_app.repository.get(user).used(ASSISTANT_TURNS, DAY) == 1


def test_an_interrupted_reply_is_recorded_as_such(
    run: Any, memory_app: Application, user: UUID
) -> None:
    asked = run(ask(user, "Tell me a story."))

    state = run(conversations.RecordReply(user, ROOM, asked.asked, "Once upon", complete=False))

    conversation = memory_app.repository.get(conversation_id(user, ROOM))
    assert state.pending is None
    assert conversation.turns[-1][1:] == ["assistant", "Once upon", False]


def test_a_reply_in_a_conversation_never_started_is_not_found(run: Any, user: UUID) -> None:
    with pytest.raises(NotFound, match="no conversation of user"):
        run(reply(user, 0))


def test_a_summary_replaces_the_older_turns(run: Any, user: UUID) -> None:
    run(reply(user, run(ask(user, "one")).asked, "uno"))

    state = run(conversations.Summarise(user, ROOM, "They counted to one.", 2))

    assert (state.summary, state.turns_kept) == ("They counted to one.", 0)


def _room(run: Any, owner: UUID) -> None:
    from domain.commands.chatroom import CreateRoom

    run(CreateRoom(ROOM, owner, "General", False))


def test_a_model_the_plan_does_not_allow_is_refused(run: Any, user: UUID) -> None:
    models = AssistantModels({"pro": ("large",)})
    _room(run, user)

    with pytest.raises(InvalidCommand, match="plan 'free' does not allow the model 'large'"):
        run(conversations.ChangeAssistantSettings(user, ROOM, "ko", "friendly", "large", models))


def test_a_model_the_plan_allows_is_sent_with_the_next_question(run: Any, user: UUID) -> None:
    models = AssistantModels({"free": ("small",)})
    _room(run, user)
    run(conversations.ChangeAssistantSettings(user, ROOM, "ko", "friendly", "small", models))

    asked = run(ask(user, "안녕?"))

    assert asked.model == "small"
    assert "'ko'" in asked.context[0].content


def test_only_a_member_of_the_room_sets_the_assistants_settings(run: Any, user: UUID) -> None:
    _room(run, uuid4())

    with pytest.raises(NotAMember):
        run(conversations.ChangeAssistantSettings(user, ROOM, "ko", "friendly"))


def test_conversations_of_one_user_in_two_rooms_are_apart(run: Any, user: UUID) -> None:
    run(ask(user, "Here?"))

    other = run(conversations.AskAssistant(user, uuid4(), "There?", TWO_A_DAY, DAY))

    assert other.asked == 0 and other.turns_used == 2


def _asked_in_room(run: Any, user: UUID, text: str) -> UUID:
    from domain.commands.chatroom import CreateRoom, PostMessage

    run(CreateRoom(ROOM, user, "General", False))
    return run(PostMessage(ROOM, user, "c-1", text)).message_id


def test_the_answer_in_a_room_and_the_conversations_reply_are_saved_together(
    run: Any, memory_app: Application, user: UUID
) -> None:
    message = _asked_in_room(run, user, "@assistant plan my trip?")
    asked = run(ask(user, "plan my trip?"))

    answered = run(conversations.AnswerInRoom(ROOM, message, asked.asked, "Go north.", "complete"))
    again = run(conversations.AnswerInRoom(ROOM, message, asked.asked, "Go north.", "complete"))

    conversation = memory_app.repository.get(conversation_id(user, ROOM))
    assert answered.new and not again.new and answered.message_id == again.message_id
    assert conversation.pending is None
    assert conversation.last_reply == [asked.asked, "Go north.", True]
    assert memory_app.repository.get(ROOM).is_answered(message)


def test_an_interrupted_answer_is_remembered_as_interrupted(
    run: Any, memory_app: Application, user: UUID
) -> None:
    message = _asked_in_room(run, user, "@assistant plan my trip?")
    asked = run(ask(user, "plan my trip?"))

    run(conversations.AnswerInRoom(ROOM, message, asked.asked, "Go", "interrupted", "Cut off."))

    conversation = memory_app.repository.get(conversation_id(user, ROOM))
    assert conversation.last_reply == [asked.asked, "Go", False]


def test_a_notice_without_a_question_leaves_the_conversation_alone(
    run: Any, memory_app: Application, user: UUID
) -> None:
    message = _asked_in_room(run, user, "@assistant hello?")

    run(conversations.AnswerInRoom(ROOM, message, None, "", "unavailable", "No assistant here."))

    assert memory_app.repository.get(ROOM).is_answered(message)
    with pytest.raises(AggregateNotFoundError):
        memory_app.repository.get(conversation_id(user, ROOM))


def test_an_answer_to_a_question_never_asked_is_refused_and_saves_nothing(
    run: Any, memory_app: Application, user: UUID
) -> None:
    message = _asked_in_room(run, user, "@assistant hello?")
    run(ask(user, "hello?"))

    with pytest.raises(IllegalTransition):
        run(conversations.AnswerInRoom(ROOM, message, 7, "Hi.", "complete"))

    assert not memory_app.repository.get(ROOM).is_answered(message)
