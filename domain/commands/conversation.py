"""Use cases on Conversation (with the user's daily quota of assistant turns).

A user's conversation in a room is addressed by the pair (user, room), never by an id a caller
could pick, so nobody reaches another user's. The first question or settings start it. Asking
counts one assistant turn against the plan's daily quota on the user's credits in the same
save: no question recorded without its use counted, none counted without its question.

The assistant's answer in a room (``AnswerInRoom``) is recorded in the same save as the room's
event and the conversation's reply: the room shows what the conversation will remember.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from domain.assistant import DEFAULT_MODELS_ONLY, AssistantModels, Turn
from domain.base import Aggregates
from domain.chatroom import COMPLETE, ChatRoom
from domain.conversation import DEFAULT_CONTEXT_TOKENS, Conversation, conversation_id
from domain.errors import NotFound
from domain.quotas import ASSISTANT_TURNS, NO_QUOTAS, Quotas, today
from domain.usercredits import UserCredits


@dataclass(frozen=True)
class ConversationState:
    """A conversation as a command left it: what the caller is answered from."""

    conversation_id: UUID
    user_id: UUID
    room_id: UUID
    language: str
    tone: str
    model: str | None  # None: the operator's default model
    summary: str
    turns_kept: int
    pending: int | None  # the question awaiting its reply
    version: int

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationState:
        return cls(
            conversation.id,
            conversation.user_id,
            conversation.room_id,
            conversation.language,
            conversation.tone,
            conversation.model,
            conversation.summary,
            len(conversation.turns),
            conversation.pending,
            conversation.version,
        )


@dataclass(frozen=True)
class Asked:
    """A recorded question: what to send the assistant, and the day's assistant turns used."""

    conversation_id: UUID
    asked: int  # the question's turn number, which its reply names
    model: str | None  # None: the operator's default model
    context: tuple[Turn, ...]  # the system message, then the recent turns, the question last
    turns_used: int  # assistant turns used on ``day``, this one included
    day: str
    version: int


@dataclass(frozen=True)
class AskAssistant:
    """Record the user's question in their conversation of a room and count one assistant turn
    against the plan's daily quota, in the same save; past the quota nothing is recorded."""

    user_id: UUID
    room_id: UUID
    text: str
    quotas: Quotas = NO_QUOTAS
    day: str = field(default_factory=today)
    budget: int = DEFAULT_CONTEXT_TOKENS  # tokens of the context answered

    def __call__(self, aggregates: Aggregates) -> Asked:
        credits = aggregates.get(UserCredits, self.user_id)
        limit = self.quotas.limit(credits.plan_name, ASSISTANT_TURNS)
        credits.require_quota(ASSISTANT_TURNS, self.day, limit)  # before anything is triggered
        conversation = _conversation(aggregates, self.user_id, self.room_id, start=True)
        asked = conversation.ask(self.text)
        credits.use_quota(ASSISTANT_TURNS, self.day, limit)
        return Asked(
            conversation.id,
            asked,
            conversation.model,
            tuple(conversation.context(self.budget)),
            credits.used(ASSISTANT_TURNS, self.day),
            self.day,
            conversation.version,
        )


@dataclass(frozen=True)
class RecordReply:
    """Record the assistant's reply to question ``asked``, once: complete, or interrupted with
    the text that came before the failure."""

    user_id: UUID
    room_id: UUID
    asked: int
    text: str
    complete: bool

    def __call__(self, aggregates: Aggregates) -> ConversationState:
        conversation = _conversation(aggregates, self.user_id, self.room_id)
        conversation.reply(self.asked, self.text, complete=self.complete)
        return ConversationState.of(conversation)


@dataclass(frozen=True)
class Answered:
    """The assistant's reply in a room: its message id, and whether this command recorded it."""

    room_id: UUID
    message_id: UUID
    in_reply_to: UUID
    outcome: str
    new: bool


@dataclass(frozen=True)
class AnswerInRoom:
    """Record the assistant's reply to message ``in_reply_to`` of a room, once, with the reply
    to question ``asked`` of the asker's conversation (none when nothing was asked: no
    assistant, the quota spent). ``notice`` says in plain words why a reply is not complete;
    the conversation keeps only what the assistant said."""

    room_id: UUID
    in_reply_to: UUID
    asked: int | None
    text: str
    outcome: str
    notice: str = ""

    def __call__(self, aggregates: Aggregates) -> Answered:
        room = aggregates.get(ChatRoom, self.room_id)
        room.require_answerable(self.in_reply_to, self.text, self.outcome, self.notice)
        new = not room.is_answered(self.in_reply_to)
        if new and self.asked is not None:  # before the room's event: it may refuse
            user_id = UUID(room.senders[str(self.in_reply_to)])
            conversation = _conversation(aggregates, user_id, self.room_id)
            conversation.reply(self.asked, self.text, complete=self.outcome == COMPLETE)
        reply_id = room.answer(self.in_reply_to, self.text, self.outcome, self.notice)
        return Answered(self.room_id, reply_id, self.in_reply_to, self.outcome, new)


@dataclass(frozen=True)
class Summarise:
    """Replace the turns numbered below ``through`` by ``summary`` (written by a model from
    ``Conversation.to_summarise``)."""

    user_id: UUID
    room_id: UUID
    summary: str
    through: int

    def __call__(self, aggregates: Aggregates) -> ConversationState:
        conversation = _conversation(aggregates, self.user_id, self.room_id)
        conversation.summarise(self.summary, self.through)
        return ConversationState.of(conversation)


@dataclass(frozen=True)
class ChangeAssistantSettings:
    """Set the language, tone and model the assistant answers a member of a room with; the
    model must be one the user's plan allows (None: the default)."""

    user_id: UUID
    room_id: UUID
    language: str
    tone: str
    model: str | None = None
    models: AssistantModels = DEFAULT_MODELS_ONLY

    def __call__(self, aggregates: Aggregates) -> ConversationState:
        aggregates.get(ChatRoom, self.room_id).require_member(self.user_id)
        credits = aggregates.get(UserCredits, self.user_id)
        model = self.models.check(credits.plan_name, self.model)
        conversation = _conversation(aggregates, self.user_id, self.room_id, start=True)
        conversation.change_settings(self.language, self.tone, model)
        return ConversationState.of(conversation)


def _conversation(
    aggregates: Aggregates, user_id: UUID, room_id: UUID, *, start: bool = False
) -> Conversation:
    """The user's conversation in the room; started if asked, else NotFound without one."""
    found = aggregates.find(Conversation, conversation_id(user_id, room_id))
    if found is not None:
        return found
    if not start:
        raise NotFound(f"no conversation of user {user_id} in room {room_id}")
    conversation = Conversation.start(user_id, room_id)
    aggregates.add(conversation)
    return conversation
