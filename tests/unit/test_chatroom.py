"""ChatRoom: membership, posting once per client id, own messages only, limits, closing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.chatroom import (
    MAX_NAME,
    MAX_TEXT,
    POSTS_PER_WINDOW,
    ChatRoom,
    mentions_assistant,
    message_id_for,
    reply_id_for,
)
from domain.errors import (
    Forbidden,
    IllegalTransition,
    InvalidCommand,
    NotAMember,
    NotFound,
    RateLimited,
)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def room(private: bool = False) -> tuple[ChatRoom, object]:
    owner = uuid4()
    return ChatRoom.create(uuid4(), "General", private, owner), owner


def events(chat: ChatRoom) -> list[str]:
    return [type(e).__name__ for e in chat.collect_events()]


def test_the_creator_owns_the_room_and_is_its_first_member():
    chat, owner = room()

    assert chat.is_member(owner) and chat.owner_id == owner
    assert events(chat) == ["Created"]


@pytest.mark.parametrize("name", ["", "   ", "x" * (MAX_NAME + 1)])
def test_a_room_name_must_have_1_to_64_characters(name):
    with pytest.raises(InvalidCommand, match="name"):
        ChatRoom.create(uuid4(), name, False, uuid4())


def test_a_post_sent_again_with_the_same_client_id_posts_nothing():
    chat, owner = room()
    first = chat.post(owner, "c-1", "hello", NOW)
    events(chat)

    again = chat.post(owner, "c-1", "hello", NOW)

    assert again == first == message_id_for(chat.id, owner, "c-1")
    assert events(chat) == []


def test_only_members_post():
    chat, _ = room()

    with pytest.raises(NotAMember):
        chat.post(uuid4(), "c-1", "hi", NOW)


def test_a_private_room_is_not_found_by_strangers_and_invited_members_get_in():
    chat, owner = room(private=True)
    guest = uuid4()
    with pytest.raises(NotFound):
        chat.join(guest)

    chat.invite(owner, guest)

    assert chat.is_member(guest)
    chat.post(guest, "c-1", "thanks", NOW)


def test_only_its_sender_edits_or_deletes_a_message():
    chat, owner = room()
    other = uuid4()
    chat.join(other)
    message_id = chat.post(owner, "c-1", "mine", NOW)

    with pytest.raises(Forbidden):
        chat.edit(other, message_id, "theirs now")
    with pytest.raises(Forbidden):
        chat.delete(other, message_id)
    chat.edit(owner, message_id, "still mine")
    chat.delete(owner, message_id)
    with pytest.raises(NotFound):
        chat.edit(owner, message_id, "gone")


@pytest.mark.parametrize("text", ["", "  ", "x" * (MAX_TEXT + 1)])
def test_a_message_has_1_to_4000_characters(text):
    chat, owner = room()

    with pytest.raises(InvalidCommand, match="text"):
        chat.post(owner, "c-1", text, NOW)


def test_a_member_posts_at_most_30_messages_in_10_seconds():
    chat, owner = room()
    for n in range(POSTS_PER_WINDOW):
        chat.post(owner, f"c-{n}", "spam", datetime.now(UTC))

    with pytest.raises(RateLimited):
        chat.post(owner, "c-one-more", "spam", datetime.now(UTC))
    later = datetime.now(UTC) + timedelta(seconds=11)
    chat.post(owner, "c-later", "calm", later)


def test_a_closed_room_takes_no_posts_and_only_its_owner_closes_it():
    chat, owner = room()
    member = uuid4()
    chat.join(member)
    with pytest.raises(Forbidden):
        chat.close(member)

    chat.close(owner)

    with pytest.raises(IllegalTransition):
        chat.post(owner, "c-1", "anyone?", NOW)


def test_the_owner_closes_rather_than_leaves():
    chat, owner = room()

    with pytest.raises(IllegalTransition):
        chat.leave(owner)


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("@assistant hello", True),
        ("what do you think, @Assistant?", True),
        ("hi @assistant", True),
        ("mail me at me@assistant.org", False),
        ("@assistants assemble", False),
        ("assistant, hello", False),
    ],
)
def test_a_message_asks_the_assistant_when_it_mentions_it(text, asks):
    assert mentions_assistant(text) is asks


def test_the_assistants_reply_is_recorded_once_and_answers_its_sender():
    chat, owner = room()
    asked = chat.post(owner, "c-1", "@assistant hi", NOW)
    chat.collect_events()

    reply = chat.answer(asked, "Hello.", "complete")
    again = chat.answer(asked, "Hello.", "complete")

    [event] = chat.collect_events()
    assert again == reply == reply_id_for(chat.id, asked)
    assert isinstance(event, ChatRoom.AssistantReplied)
    assert (event.in_reply_to, event.user_id, event.outcome) == (asked, owner, "complete")
    assert chat.is_answered(asked)


def test_a_reply_is_refused_for_an_unknown_message_a_reply_or_an_unknown_outcome():
    chat, owner = room()
    asked = chat.post(owner, "c-1", "@assistant hi", NOW)
    reply = chat.answer(asked, "Hello.", "complete")

    with pytest.raises(NotFound):
        chat.answer(uuid4(), "Hello.", "complete")
    with pytest.raises(NotFound):  # the assistant does not answer itself
        chat.answer(reply, "Hello.", "complete")
    with pytest.raises(InvalidCommand, match="outcome"):
        chat.answer(chat.post(owner, "c-2", "@assistant again", NOW), "x", "finished")


def test_a_closed_room_still_records_the_reply_to_a_question_asked_before():
    chat, owner = room()
    asked = chat.post(owner, "c-1", "@assistant hi", NOW)
    chat.close(owner)

    chat.answer(asked, "", "interrupted", "The reply was interrupted.")

    assert chat.is_answered(asked)


def test_the_assistants_reply_cannot_be_edited_or_deleted_by_a_member():
    chat, owner = room()
    reply = chat.answer(chat.post(owner, "c-1", "@assistant hi", NOW), "Hello.", "complete")

    with pytest.raises(Forbidden):
        chat.edit(owner, reply, "Goodbye.")
    with pytest.raises(Forbidden):
        chat.delete(owner, reply)


def test_a_post_records_whether_it_asks_the_assistant():
    chat, owner = room()
    chat.post(owner, "c-1", "hello all", NOW)
    chat.post(owner, "c-2", "@assistant hello", NOW)

    posted = [e for e in chat.collect_events() if isinstance(e, ChatRoom.Posted)]

    assert [e.asks_assistant for e in posted] == [False, True]


def test_in_an_assistant_room_every_message_asks_and_the_room_is_private():
    owner = uuid4()
    chat = ChatRoom.create(uuid4(), "Me and the assistant", False, owner, assistant=True)
    chat.post(owner, "c-1", "plan my week", NOW)

    posted = [e for e in chat.collect_events() if isinstance(e, ChatRoom.Posted)]

    assert chat.private and chat.assistant
    assert posted[0].asks_assistant
