"""Conversation: what the assistant is given for one user in one room (the per-user context DO).

One per (user, room), its id derived from the pair (``conversation_id``). It keeps the user's
settings (language, tone, model), the turns since the last summary and that summary. The
assistant is sent ``context()``: a system message (settings and summary), then the newest
turns that fit a token budget (estimated, see ``domain.assistant``). Turns that no longer fit
are summarised by the caller, who asks a model for the text (``to_summarise``) and records it
with ``summarise``: the aggregate never calls a model.

Each question is a numbered turn; its reply is recorded once, as one event, complete or
interrupted (the text streamed before a failure or a crash, possibly none). Until then the
question is pending and another is refused: a caller whose stream failed records what it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.assistant import (
    ASSISTANT,
    DEFAULT_LANGUAGE,
    DEFAULT_TONE,
    MAX_MODEL_NAME,
    MAX_REPLY,
    SYSTEM,
    USER,
    Turn,
    check_language,
    check_tone,
    turn_tokens,
)
from domain.base import Aggregate
from domain.checks import require_text
from domain.errors import IllegalTransition, InvalidCommand

NAMESPACE = uuid5(NAMESPACE_URL, "https://chronicle.local/conversations")
DEFAULT_CONTEXT_TOKENS = 3000  # what context() sends at most, when the caller names no budget
MAX_QUESTION = 4000  # characters of one question
MAX_SUMMARY = 8000  # characters of the running summary
MAX_TURNS_KEPT = 200  # beyond, the oldest turns are forgotten unsummarised (state stays small)
TONE_WORDS = {
    "neutral": "Be clear and even-toned.",
    "friendly": "Be warm and friendly.",
    "concise": "Be brief: use as few words as serve the answer.",
    "formal": "Be formal and polite.",
}


def conversation_id(user_id: UUID, room_id: UUID) -> UUID:
    """The id of the conversation of ``user_id`` in ``room_id``: the same for the same pair."""
    return uuid5(NAMESPACE, f"{user_id}/{room_id}")


@dataclass(frozen=True)
class ToSummarise:
    """Turns that no longer fit the budget: summarise them with ``summary`` through ``through``."""

    through: int  # the turns numbered below this are replaced by the new summary
    summary: str  # the summary so far, which the new one must include
    turns: tuple[Turn, ...]


class Conversation(Aggregate):
    """One user's conversation with the assistant in one room."""

    snapshot_interval = 100

    class Created(Aggregate.Created):
        user_id: UUID
        room_id: UUID

    class SettingsChanged(Aggregate.Event):
        language: str
        tone: str
        model: str | None

        def apply(self, conversation: Conversation) -> None:
            conversation.language = self.language
            conversation.tone = self.tone
            conversation.model = self.model

    class UserAsked(Aggregate.Event):
        text: str

        def apply(self, conversation: Conversation) -> None:
            conversation.pending = conversation.next_turn
            conversation._append(USER, self.text, True)

    class AssistantReplied(Aggregate.Event):
        asked: int  # the number of the question it answers
        text: str
        complete: bool  # False: interrupted, ``text`` is what came before

        def apply(self, conversation: Conversation) -> None:
            conversation.pending = None
            conversation.last_reply = [self.asked, self.text, self.complete]
            conversation._append(ASSISTANT, self.text, self.complete)

    class Summarised(Aggregate.Event):
        summary: str
        through: int  # the turns numbered below this are replaced by the summary

        def apply(self, conversation: Conversation) -> None:
            conversation.summary = self.summary
            conversation.summarised_through = self.through
            conversation.turns = [t for t in conversation.turns if t[0] >= self.through]

    def __init__(self, user_id: UUID, room_id: UUID) -> None:
        self.user_id = user_id
        self.room_id = room_id
        self.language = DEFAULT_LANGUAGE
        self.tone = DEFAULT_TONE
        self.model: str | None = None  # None: the operator's default model
        self.summary = ""
        self.summarised_through = 0
        self.turns: list[list[Any]] = []  # [number, role, text, complete], oldest first
        self.next_turn = 0
        self.pending: int | None = None  # the question awaiting its reply
        self.last_reply: list[Any] | None = None  # [asked, text, complete]

    @classmethod
    def start(cls, user_id: UUID, room_id: UUID) -> Conversation:
        """A new conversation of ``user_id`` in ``room_id``, with the default settings."""
        return cls._create(
            cls.Created, id=conversation_id(user_id, room_id), user_id=user_id, room_id=room_id
        )

    def change_settings(self, language: str, tone: str, model: str | None) -> None:
        """Answer in ``language`` with ``tone`` from ``model`` (checked against the plan by the
        command); the same settings change nothing."""
        language, tone = check_language(language), check_tone(tone)
        if model is not None:
            require_text("model", model, longest=MAX_MODEL_NAME)
        if (language, tone, model) != (self.language, self.tone, self.model):
            self.trigger_event(self.SettingsChanged, language=language, tone=tone, model=model)

    def ask(self, text: str) -> int:
        """Record the user's question; its turn number. Refused while a reply is pending."""
        require_text("question", text, longest=MAX_QUESTION)
        if self.pending is not None:
            raise IllegalTransition(
                f"the assistant is still answering question {self.pending}; "
                "wait for its reply (or record it interrupted)",
                pending=self.pending,
            )
        number = self.next_turn
        self.trigger_event(self.UserAsked, text=text)
        return number

    def reply(self, asked: int, text: str, *, complete: bool) -> None:
        """Record the reply to question ``asked``, once: complete, or interrupted with the text
        streamed so far. The same reply again changes nothing; another is refused."""
        if not isinstance(text, str) or len(text) > MAX_REPLY:
            raise InvalidCommand(f"a reply must be a string of at most {MAX_REPLY} characters")
        if self.pending is not None and asked == self.pending:
            self.trigger_event(self.AssistantReplied, asked=asked, text=text, complete=complete)
            return
        if self.last_reply == [asked, text, complete]:
            return  # a repeat
        if self.last_reply is not None and self.last_reply[0] == asked:
            raise IllegalTransition(f"question {asked} was already answered", asked=asked)
        raise IllegalTransition(f"no question {asked} awaits a reply", asked=asked)

    def summarise(self, summary: str, through: int) -> None:
        """Replace the turns numbered below ``through`` (and the summary so far) by ``summary``."""
        require_text("summary", summary, longest=MAX_SUMMARY)
        if (summary, through) == (self.summary, self.summarised_through):
            return  # a repeat
        last = self.next_turn if self.pending is None else self.pending
        if not self.summarised_through < through <= last:
            raise IllegalTransition(
                f"turns {self.summarised_through} to {last - 1} can be summarised, "
                f"not those below {through}",
                summarised_through=self.summarised_through,
            )
        self.trigger_event(self.Summarised, summary=summary, through=through)

    def context(self, budget: int = DEFAULT_CONTEXT_TOKENS) -> list[Turn]:
        """What to send the assistant: the system message, then the newest turns that fit
        ``budget`` tokens (the newest always, whatever its size)."""
        system = Turn(SYSTEM, self.system_prompt())
        recent = self._fitting(budget - turn_tokens(system))
        return [system, *(Turn(role, text) for _, role, text, _ in recent)]

    def to_summarise(self, budget: int = DEFAULT_CONTEXT_TOKENS) -> ToSummarise | None:
        """The turns ``context(budget)`` leaves out, to summarise; None while all fit."""
        fitting = self._fitting(budget - turn_tokens(Turn(SYSTEM, self.system_prompt())))
        kept = [t for t in self.turns if t[2]]
        left_out = kept[: len(kept) - len(fitting)]
        if not left_out:
            return None
        through = fitting[0][0] if fitting else left_out[-1][0] + 1
        turns = tuple(Turn(role, text) for _, role, text, _ in left_out)
        return ToSummarise(through, self.summary, turns)

    def system_prompt(self) -> str:
        """The system message: who the assistant is, the user's settings, and the summary."""
        if self.language == DEFAULT_LANGUAGE:
            language = "Answer in the language of the member's latest message."
        else:
            language = f"Answer in the language with the tag {self.language!r}."
        lines = [
            "You are the assistant of a chat room, answering one of its members.",
            language,
            TONE_WORDS[self.tone],
        ]
        if self.summary:
            lines.append(f"Summary of your conversation so far:\n{self.summary}")
        return "\n".join(lines)

    def _fitting(self, budget: int) -> list[list[Any]]:
        """The newest non-empty turns whose estimated tokens fit ``budget`` (the newest always)."""
        chosen: list[list[Any]] = []
        spent = 0
        for turn in reversed([t for t in self.turns if t[2]]):
            cost = turn_tokens(Turn(turn[1], turn[2]))
            if chosen and spent + cost > budget:
                break
            chosen.append(turn)
            spent += cost
        return chosen[::-1]

    def _append(self, role: str, text: str, complete: bool) -> None:
        self.turns.append([self.next_turn, role, text, complete])
        self.next_turn += 1
        if len(self.turns) > MAX_TURNS_KEPT:
            self.turns = self.turns[-MAX_TURNS_KEPT:]
