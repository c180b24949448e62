"""The scripted assistant behaves as the port says: deltas in order, or a cut with its text."""

from __future__ import annotations

import pytest

from adapters.assistant import Assistant
from domain.assistant import Turn
from domain.errors import AssistantInterrupted, AssistantUnavailable
from tests.fakes import ScriptedAssistant

MESSAGES = [Turn("user", "Hi")]


def reply(assistant: Assistant) -> str:
    return "".join(assistant.stream_reply(MESSAGES))


def test_it_streams_its_deltas_and_records_the_call() -> None:
    assistant = ScriptedAssistant("Hi", " there")

    assert reply(assistant) == "Hi there"
    assert assistant.calls == [(MESSAGES, None, None)]


def test_it_is_cut_off_with_the_text_so_far() -> None:
    with pytest.raises(AssistantInterrupted) as raised:
        reply(ScriptedAssistant("Once", " upon", " a time", interrupt_after=2))

    assert raised.value.text == "Once upon"


def test_it_can_be_unavailable_before_any_delta() -> None:
    with pytest.raises(AssistantUnavailable):
        reply(ScriptedAssistant(unavailable=True))
