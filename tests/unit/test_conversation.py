"""The Conversation aggregate: questions and their one reply, the context within a budget,
the summary that replaces older turns, and the user's settings."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from domain.assistant import ASSISTANT, SYSTEM, USER, Turn, estimate_tokens, turn_tokens
from domain.conversation import MAX_TURNS_KEPT, Conversation, conversation_id
from domain.errors import IllegalTransition, InvalidCommand
from eventstore.application import Chronicle
from tests.unit.test_golden_events import stored

GOLDEN = Path(__file__).parents[1] / "golden" / "events_v5_conversation.json"


def started() -> Conversation:
    return Conversation.start(uuid4(), uuid4())


def answered(conversation: Conversation, question: str, reply: str) -> None:
    conversation.reply(conversation.ask(question), reply, complete=True)


def test_the_id_is_the_same_for_the_same_user_and_room_only() -> None:
    user, room = uuid4(), uuid4()

    assert conversation_id(user, room) == Conversation.start(user, room).id
    assert conversation_id(user, room) != conversation_id(room, user)
    assert conversation_id(user, room) != conversation_id(user, uuid4())


def test_a_question_is_pending_until_its_reply_is_recorded() -> None:
    conversation = started()
    asked = conversation.ask("Where is Jeju?")
    assert conversation.pending == asked

    conversation.reply(asked, "An island south of Korea.", complete=True)

    assert conversation.pending is None
    assert [t[1:] for t in conversation.turns] == [
        [USER, "Where is Jeju?", True],
        [ASSISTANT, "An island south of Korea.", True],
    ]


def test_another_question_is_refused_while_a_reply_is_pending() -> None:
    conversation = started()
    conversation.ask("First?")

    with pytest.raises(IllegalTransition, match="still answering question 0"):
        conversation.ask("Second?")


def test_an_interrupted_reply_is_recorded_once_with_the_text_so_far() -> None:
    conversation = started()
    asked = conversation.ask("Tell me a story.")

    conversation.reply(asked, "Once upon", complete=False)

    events = conversation.collect_events()
    replies = [e for e in events if isinstance(e, Conversation.AssistantReplied)]
    assert [(e.asked, e.text, e.complete) for e in replies] == [(asked, "Once upon", False)]


def test_the_same_reply_again_changes_nothing() -> None:
    conversation = started()
    asked = conversation.ask("Hi?")
    conversation.reply(asked, "Hello.", complete=True)
    version = conversation.version

    conversation.reply(asked, "Hello.", complete=True)

    assert conversation.version == version


def test_another_reply_to_an_answered_question_is_refused() -> None:
    conversation = started()
    asked = conversation.ask("Hi?")
    conversation.reply(asked, "Hello", complete=False)

    with pytest.raises(IllegalTransition, match="question 0 was already answered"):
        conversation.reply(asked, "Hello, how can I help?", complete=True)


def test_a_reply_to_no_pending_question_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="no question 3 awaits a reply"):
        started().reply(3, "Hello.", complete=True)


def test_the_system_message_holds_the_settings_and_the_summary() -> None:
    conversation = started()
    conversation.change_settings("ko", "concise", None)
    answered(conversation, "Hi", "Hello")
    conversation.summarise("They greeted each other.", 2)

    system = conversation.context()[0]

    assert system.role == SYSTEM
    assert "'ko'" in system.content and "Be brief" in system.content
    assert system.content.endswith("They greeted each other.")


def test_the_context_keeps_the_newest_turns_within_the_budget() -> None:
    conversation = started()
    for n in range(10):
        answered(conversation, f"question {n} " + "x" * 400, f"answer {n} " + "y" * 400)
    budget = 1000

    context = conversation.context(budget)

    assert sum(turn_tokens(t) for t in context) <= budget
    assert context[-1].content.startswith("answer 9")
    assert 2 < len(context) < 21


def test_the_newest_turn_is_sent_even_when_it_alone_is_over_the_budget() -> None:
    conversation = started()
    answered(conversation, "short", "short")
    conversation.ask("z" * 4000)

    context = conversation.context(budget=100)

    assert [t.role for t in context] == [SYSTEM, USER] and context[1].content == "z" * 4000


def test_to_summarise_names_the_turns_left_out_and_where_they_end() -> None:
    conversation = started()
    for n in range(6):
        answered(conversation, f"q{n} " + "x" * 400, f"a{n} " + "y" * 400)
    budget = 700

    request = conversation.to_summarise(budget)

    assert request is not None
    kept = conversation.context(budget)[1:]
    assert len(request.turns) + len(kept) == 12
    assert request.through == 12 - len(kept)
    assert request.turns[0] == Turn(USER, "q0 " + "x" * 400)


def test_nothing_is_to_summarise_while_every_turn_fits() -> None:
    conversation = started()
    answered(conversation, "Hi", "Hello")

    assert conversation.to_summarise() is None


def test_a_summary_replaces_the_turns_before_through() -> None:
    conversation = started()
    answered(conversation, "one", "uno")
    answered(conversation, "two", "dos")

    conversation.summarise("Counting in Spanish: one, uno.", 2)

    assert conversation.summary == "Counting in Spanish: one, uno."
    assert [t[2] for t in conversation.turns] == ["two", "dos"]
    assert [t.content for t in conversation.context()[1:]] == ["two", "dos"]


def test_a_summary_may_not_reach_past_the_pending_question() -> None:
    conversation = started()
    answered(conversation, "one", "uno")
    conversation.ask("two")

    with pytest.raises(IllegalTransition, match="turns 0 to 1 can be summarised"):
        conversation.summarise("All of it.", 3)


def test_tokens_are_estimated_from_utf8_bytes_so_korean_is_not_undercounted() -> None:
    assert estimate_tokens("abcdefgh") == 2
    assert estimate_tokens("안녕하세요") == 4  # 15 bytes
    assert estimate_tokens("") == 0


@pytest.mark.parametrize(
    ("language", "tone"), [("korean", "friendly"), ("ko", "grumpy")], ids=["language", "tone"]
)
def test_settings_outside_the_known_forms_are_refused(language: str, tone: str) -> None:
    with pytest.raises(InvalidCommand):
        started().change_settings(language, tone, None)


def test_the_same_settings_again_record_nothing() -> None:
    conversation = started()
    conversation.change_settings("ko", "formal", "small")
    version = conversation.version

    conversation.change_settings("ko", "formal", "small")

    assert conversation.version == version


def test_the_oldest_turns_are_forgotten_past_the_bound() -> None:
    conversation = started()
    for n in range(MAX_TURNS_KEPT):
        answered(conversation, f"q{n}", f"a{n}")

    assert len(conversation.turns) == MAX_TURNS_KEPT
    assert conversation.turns[0][2] == f"q{MAX_TURNS_KEPT // 2}"


def test_a_stored_conversation_rebuilds_with_its_settings_summary_and_turns() -> None:
    app = Chronicle()
    rows = json.loads(GOLDEN.read_text(encoding="utf-8"))["events"]
    app.recorder.insert_events([stored(row) for row in rows])

    conversation = app.repository.get(UUID(rows[0]["originator_id"]))

    assert (conversation.language, conversation.tone, conversation.model) == (
        "ko",
        "friendly",
        "small-model",
    )
    assert conversation.summary == "사용자는 제주도 3일 여행을 계획한다."
    assert [t[1:] for t in conversation.turns] == [
        [USER, "제주도, 3일.", True],
        [ASSISTANT, "첫째 날은", False],
    ]


def test_a_conversation_loads_from_its_snapshot_alone() -> None:
    app = Chronicle()
    rows = json.loads(GOLDEN.read_text(encoding="utf-8"))["snapshots"]
    app.snapshots.recorder.insert_events([stored(row) for row in rows])

    conversation = app.repository.get(UUID(rows[0]["originator_id"]))

    assert (conversation.summarised_through, conversation.next_turn) == (2, 4)
    assert conversation.context()[-1] == Turn(ASSISTANT, "첫째 날은")


def test_with_no_language_chosen_the_assistant_answers_in_the_members_own() -> None:
    conversation = started()
    conversation.ask("제주도 여행 일정 짜 줘")

    assert conversation.language == "und"
    assert "language of the member's latest message" in conversation.system_prompt()

    conversation.change_settings("en-GB", "neutral", None)

    assert "Answer in the language with the tag 'en-GB'." in conversation.system_prompt()
