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
from domain.errors import IllegalTransition, InvalidCommand, NotFound, QuotaExceeded
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


def test_a_model_the_plan_does_not_allow_is_refused(run: Any, user: UUID) -> None:
    models = AssistantModels({"pro": ("large",)})

    with pytest.raises(InvalidCommand, match="plan 'free' does not allow the model 'large'"):
        run(conversations.ChangeAssistantSettings(user, ROOM, "ko", "friendly", "large", models))


def test_a_model_the_plan_allows_is_sent_with_the_next_question(run: Any, user: UUID) -> None:
    models = AssistantModels({"free": ("small",)})
    run(conversations.ChangeAssistantSettings(user, ROOM, "ko", "friendly", "small", models))

    asked = run(ask(user, "안녕?"))

    assert asked.model == "small"
    assert "'ko'" in asked.context[0].content


def test_conversations_of_one_user_in_two_rooms_are_apart(run: Any, user: UUID) -> None:
    run(ask(user, "Here?"))

    other = run(conversations.AskAssistant(user, uuid4(), "There?", TWO_A_DAY, DAY))

    assert other.asked == 0 and other.turns_used == 2
