"""What the assistant is given and may use: turns, their token estimate, and policy per plan.

A ``Turn`` is one message of what the assistant is sent (the chat-completions API's
``{"role", "content"}``). Tokens are estimated, never counted with a model's tokenizer (the
domain knows no model): one token per 4 bytes of UTF-8 text, plus 4 per message for its role
and framing. English runs about 4 characters a token, and a Hangul syllable (3 bytes) about
0.75, close to what multilingual tokenizers spend on Korean; a plain 4-characters rule would
undercount Korean four times over. The estimate only bounds a budget, so erring high is safe.

Which models a user may choose is policy, set per plan by the operator (like the quotas):
``AssistantModels``. ``None`` as a choice means the operator's default model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.errors import InvalidCommand

SYSTEM = "system"
USER = "user"
ASSISTANT = "assistant"
ROLES = (SYSTEM, USER, ASSISTANT)

TONES = ("neutral", "friendly", "concise", "formal")
# BCP 47's "undetermined": no language chosen, so the assistant answers in the member's own.
DEFAULT_LANGUAGE = "und"
DEFAULT_TONE = "neutral"
MAX_MODEL_NAME = 200
MAX_REPLY = 32_000  # characters of one recorded reply
# A BCP 47 language tag as people write them: "ko", "en-GB", "zh-Hant".
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")

BYTES_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


@dataclass(frozen=True)
class Turn:
    """One message the assistant is sent: who says it (``role``) and what (``content``), and
    the images shown with it (``data:`` or ``https:`` URLs; only on the question it answers)."""

    role: str
    content: str
    images: tuple[str, ...] = ()


def estimate_tokens(text: str) -> int:
    """About how many tokens ``text`` costs a model: one per 4 bytes of UTF-8, rounded up."""
    return -(-len(text.encode("utf-8")) // BYTES_PER_TOKEN)


def turn_tokens(turn: Turn) -> int:
    """About how many tokens one message costs, its role and framing included."""
    return estimate_tokens(turn.content) + TOKENS_PER_MESSAGE


def check_language(language: object) -> str:
    """``language`` as a BCP 47 tag (``ko``, ``en-GB``), or InvalidCommand."""
    if not isinstance(language, str) or not _LANGUAGE.match(language):
        raise InvalidCommand(
            f"language must be a language tag such as 'ko' or 'en-GB', got {language!r}"
        )
    return language


def check_tone(tone: object) -> str:
    """``tone`` when it is one of ``TONES``, or InvalidCommand naming them."""
    if tone not in TONES:
        raise InvalidCommand(f"tone must be one of {', '.join(TONES)}, got {tone!r}")
    return str(tone)


@dataclass(frozen=True)
class AssistantModels:
    """Per plan, the models a user may choose besides the default (a plan left out: none)."""

    per_plan: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def allowed(self, plan: str) -> tuple[str, ...]:
        """The models a user of ``plan`` may choose."""
        return tuple(self.per_plan.get(plan, ()))

    def check(self, plan: str, model: str | None) -> str | None:
        """``model`` when ``plan`` allows it (None, the default, always), else InvalidCommand."""
        if model is None:
            return None
        allowed = self.allowed(plan)
        if model not in allowed:
            choices = ", ".join(allowed) if allowed else "only the default model"
            raise InvalidCommand(
                f"plan {plan!r} does not allow the model {model!r}; it allows {choices}",
                allowed=list(allowed),
            )
        return model


DEFAULT_MODELS_ONLY = AssistantModels()
