"""ChatRoom: one chat room, the one writer of its members and messages (a Durable Object before).

Every change is an event through the executor, so the posts to one room are serialised and
ordered by the log. A message's id comes from its sender and the client's own id for it
(``message_id_for``): a post sent again after a lost acknowledgement finds its message and
posts nothing.

A message mentioning ``@assistant``, or any message in an assistant room, asks the assistant
(``Posted.asks_assistant``, decided when posted: messages recorded before could not ask). Its
answer is recorded once, as one ``AssistantReplied`` event whose id derives from the
question's (``reply_id_for``): complete, interrupted (with the words that came before), or a
notice saying plainly why there is none (no assistant, the daily quota spent).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.assistant import MAX_REPLY
from domain.base import Aggregate
from domain.errors import (
    Forbidden,
    IllegalTransition,
    InvalidCommand,
    NotAMember,
    NotFound,
    RateLimited,
    RoomFull,
)

MAX_NAME = 64
MAX_TEXT = 4000
MAX_CLIENT_ID = 100
MAX_MEMBERS = 200
POSTS_PER_WINDOW, MAX_POSTS_PER_WINDOW = 30, 200  # a member's messages per WINDOW: default, most
WINDOW = timedelta(seconds=10)
ASSISTANT = "assistant"  # the sender of the assistant's replies
MAX_NOTICE = 500
COMPLETE, INTERRUPTED, UNAVAILABLE, QUOTA_SPENT = (
    "complete", "interrupted", "unavailable", "quota_exceeded",
)  # fmt: skip
REPLY_OUTCOMES = (COMPLETE, INTERRUPTED, UNAVAILABLE, QUOTA_SPENT)
_MENTION = re.compile(r"(?<![\w@])@assistant\b", re.IGNORECASE)


def message_id_for(room_id: UUID, user_id: UUID, client_id: str) -> UUID:
    """The id of the message ``user_id`` posts to ``room_id`` under its own ``client_id``."""
    return uuid5(NAMESPACE_URL, f"chronicle:chat:{room_id}:{user_id}:{client_id}")


def reply_id_for(room_id: UUID, message_id: UUID) -> UUID:
    """The id of the assistant's reply to ``message_id``: one per question, whoever records it."""
    return uuid5(NAMESPACE_URL, f"chronicle:chat:{room_id}:reply:{message_id}")


def mentions_assistant(text: str) -> bool:
    """Whether ``text`` asks the assistant: it mentions ``@assistant`` (any case)."""
    return bool(_MENTION.search(text))


class ChatRoom(Aggregate):
    """A room: its members, its messages' senders, and whether it is closed."""

    snapshot_interval = 200
    class_version = 2  # of snapshots: v1 had no assistant rooms

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["assistant"] = False

    class Created(Aggregate.Created):
        name: str
        private: bool
        owner_id: UUID
        posts_per_window: int
        assistant: bool = False  # every message asks the assistant (rooms before: none did)

    class Joined(Aggregate.Event):
        user_id: UUID

        def apply(self, room: ChatRoom) -> None:
            room.members.append(str(self.user_id))

    class Left(Aggregate.Event):
        user_id: UUID

        def apply(self, room: ChatRoom) -> None:
            room.members.remove(str(self.user_id))

    class Posted(Aggregate.Event):
        message_id: UUID
        user_id: UUID
        client_id: str
        text: str
        asks_assistant: bool = False  # decided when posted (messages before: none asked)
        attachment: dict[str, Any] | None = None  # a completed upload: ``attachment_of``

        def apply(self, room: ChatRoom) -> None:
            room.senders[str(self.message_id)] = str(self.user_id)
            recent = room.recent_posts.setdefault(str(self.user_id), [])
            recent[:] = [*recent[-(room.posts_per_window - 1) :], self.timestamp.isoformat()]

    class Edited(Aggregate.Event):
        message_id: UUID
        text: str

    class Deleted(Aggregate.Event):
        message_id: UUID

        def apply(self, room: ChatRoom) -> None:
            room.deleted.append(str(self.message_id))

    class AssistantReplied(Aggregate.Event):
        message_id: UUID  # the reply's own id (``reply_id_for``)
        in_reply_to: UUID  # the message that asked
        user_id: UUID  # whom it answers: the sender of ``in_reply_to``
        text: str  # what the assistant said: all of it, or what came before an interruption
        outcome: str  # one of REPLY_OUTCOMES
        notice: str  # plain words when the reply is not complete, else ""

        def apply(self, room: ChatRoom) -> None:
            room.senders[str(self.message_id)] = ASSISTANT

    class Closed(Aggregate.Event):
        def apply(self, room: ChatRoom) -> None:
            room.closed = True

    def __init__(
        self,
        name: str,
        private: bool,
        owner_id: UUID,
        posts_per_window: int,
        assistant: bool = False,
    ) -> None:
        self.name = name
        self.private = private
        self.owner_id = owner_id
        self.posts_per_window = posts_per_window
        self.assistant = assistant
        self.members = [str(owner_id)]
        self.senders: dict[str, str] = {}  # message id -> its sender
        self.deleted: list[str] = []
        self.recent_posts: dict[str, list[str]] = {}  # member -> timestamps of the last posts
        self.closed = False

    @classmethod
    def create(
        cls,
        room_id: UUID,
        name: str,
        private: bool,
        owner_id: UUID,
        posts_per_window: int = POSTS_PER_WINDOW,
        assistant: bool = False,
    ) -> ChatRoom:
        """A new room named ``name``; its creator is its owner and first member, and sets how
        many messages a member may post in ``WINDOW``. An ``assistant`` room (always private:
        one's own room with the assistant) asks the assistant with every message."""
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME:
            raise InvalidCommand(f"name must have 1 to {MAX_NAME} characters")
        if not 1 <= posts_per_window <= MAX_POSTS_PER_WINDOW:
            raise InvalidCommand(f"posts_per_window must be 1 to {MAX_POSTS_PER_WINDOW}")
        return cls._create(
            cls.Created,
            id=room_id,
            name=name.strip(),
            private=private or assistant,
            owner_id=owner_id,
            posts_per_window=posts_per_window,
            assistant=assistant,
        )

    def is_member(self, user_id: UUID) -> bool:
        return str(user_id) in self.members

    def require_visible(self, user_id: UUID) -> None:
        """A private room is not found by anyone but its members (its existence does not leak)."""
        if self.private and not self.is_member(user_id):
            raise NotFound(f"chat room {self.id} not found")

    def join(self, user_id: UUID) -> None:
        """Join a public room (a private one: invited by a member, ``invite``); idempotent."""
        self.require_visible(user_id)
        self._require_open()
        if not self.is_member(user_id):
            self._admit(user_id)

    def invite(self, member_id: UUID, user_id: UUID) -> None:
        """A member lets ``user_id`` into the room (the way into a private one)."""
        self.require_member(member_id)
        self._require_open()
        if not self.is_member(user_id):
            self._admit(user_id)

    def leave(self, user_id: UUID) -> None:
        """Leave the room; leaving again changes nothing. The owner closes rather than leaves."""
        self.require_visible(user_id)
        if user_id == self.owner_id:
            raise IllegalTransition("the owner cannot leave the room: close it instead")
        if self.is_member(user_id):
            self.trigger_event(self.Left, user_id=user_id)

    def post(
        self,
        user_id: UUID,
        client_id: str,
        text: str,
        now: datetime,
        attachment: dict[str, Any] | None = None,
    ) -> UUID:
        """Post ``text`` as ``user_id``, with a file (``attachment_of`` a completed upload);
        the same ``client_id`` again posts nothing. Its id."""
        self.require_member(user_id)
        if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID:
            raise InvalidCommand(f"client_id must have 1 to {MAX_CLIENT_ID} characters")
        message_id = message_id_for(self.id, user_id, client_id)
        if str(message_id) in self.senders:
            return message_id
        self._require_open()
        text = _checked_text(text)
        recent = self.recent_posts.get(str(user_id), [])
        since = now - WINDOW
        if sum(1 for t in recent if datetime.fromisoformat(t) > since) >= self.posts_per_window:
            raise RateLimited(
                f"at most {self.posts_per_window} messages per {WINDOW.seconds} s in this room; "
                "retry shortly"
            )
        self.trigger_event(
            self.Posted,
            message_id=message_id,
            user_id=user_id,
            client_id=client_id,
            text=text,
            asks_assistant=self.assistant or mentions_assistant(text),
            attachment=attachment,
        )
        return message_id

    def edit(self, user_id: UUID, message_id: UUID, text: str) -> None:
        """Replace the text of one of ``user_id``'s own messages."""
        self._require_own(user_id, message_id)
        self._require_open()
        self.trigger_event(self.Edited, message_id=message_id, text=_checked_text(text))

    def delete(self, user_id: UUID, message_id: UUID) -> None:
        """Delete one of ``user_id``'s own messages; deleting it again changes nothing."""
        self._require_own(user_id, message_id)
        if str(message_id) not in self.deleted:
            self.trigger_event(self.Deleted, message_id=message_id)

    def require_answerable(self, in_reply_to: UUID, text: str, outcome: str, notice: str) -> None:
        """Check that the assistant may answer ``in_reply_to`` with this (or did already)."""
        sender = self.senders.get(str(in_reply_to))
        if sender is None or sender == ASSISTANT:
            raise NotFound(f"message {in_reply_to} not found")
        if outcome not in REPLY_OUTCOMES:
            raise InvalidCommand(f"outcome must be one of {', '.join(REPLY_OUTCOMES)}")
        if not isinstance(text, str) or len(text) > MAX_REPLY:
            raise InvalidCommand(f"a reply has at most {MAX_REPLY} characters")
        if not isinstance(notice, str) or len(notice) > MAX_NOTICE:
            raise InvalidCommand(f"a notice has at most {MAX_NOTICE} characters")

    def is_answered(self, in_reply_to: UUID) -> bool:
        """Whether the assistant's reply to ``in_reply_to`` is recorded."""
        return str(reply_id_for(self.id, in_reply_to)) in self.senders

    def answer(self, in_reply_to: UUID, text: str, outcome: str, notice: str = "") -> UUID:
        """Record the assistant's reply to ``in_reply_to``, once (a closed room included: the
        question came before); its id. Recording it again changes nothing."""
        self.require_answerable(in_reply_to, text, outcome, notice)
        reply_id = reply_id_for(self.id, in_reply_to)
        if not self.is_answered(in_reply_to):
            self.trigger_event(
                self.AssistantReplied,
                message_id=reply_id,
                in_reply_to=in_reply_to,
                user_id=UUID(self.senders[str(in_reply_to)]),
                text=text,
                outcome=outcome,
                notice=notice,
            )
        return reply_id

    def close(self, user_id: UUID) -> None:
        """The owner closes the room: nothing more is posted; closing again changes nothing."""
        self.require_visible(user_id)
        if user_id != self.owner_id:
            raise Forbidden("only the room's owner may close it")
        if not self.closed:
            self.trigger_event(self.Closed)

    def _admit(self, user_id: UUID) -> None:
        if len(self.members) >= MAX_MEMBERS:
            raise RoomFull(f"the room has its {MAX_MEMBERS} members")
        self.trigger_event(self.Joined, user_id=user_id)

    def require_member(self, user_id: UUID) -> None:
        """NotFound for a private room's outsider, NotAMember for another outsider."""
        self.require_visible(user_id)
        if not self.is_member(user_id):
            raise NotAMember(f"join chat room {self.id} first")

    def _require_own(self, user_id: UUID, message_id: UUID) -> None:
        self.require_member(user_id)
        sender = self.senders.get(str(message_id))
        if sender is None or str(message_id) in self.deleted:
            raise NotFound(f"message {message_id} not found")
        if sender != str(user_id):
            raise Forbidden("only its sender may change a message")

    def _require_open(self) -> None:
        if self.closed:
            raise IllegalTransition("the room is closed")


def _checked_text(text: object) -> str:
    if not isinstance(text, str) or not 1 <= len(text.strip()) <= MAX_TEXT:
        raise InvalidCommand(f"text must have 1 to {MAX_TEXT} characters")
    return text


def utcnow() -> datetime:
    return datetime.now(UTC)
