"""Reading the chat-completions answer: server-sent events, Retry-After, and answers that are
not a plain stream (in memory, through httpx's mock transport)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from adapters.assistant import OpenAIAssistant
from adapters.assistant.openai import retry_after_seconds, server_sent_data
from domain.assistant import Turn
from domain.errors import AssistantInterrupted, AssistantUnavailable

MESSAGES = [Turn("user", "Hi")]


def answering(body: str, content_type: str = "text/event-stream") -> OpenAIAssistant:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, text=body)

    return OpenAIAssistant(
        "http://assistant.test/v1", model="m", transport=httpx.MockTransport(handler)
    )


def chunk(content: str) -> str:
    return "data: " + json.dumps({"choices": [{"delta": {"content": content}}]}) + "\n\n"


def test_events_join_multi_line_data_and_skip_comments_and_other_fields() -> None:
    lines = [": keep-alive", "", "event: message", "data: one", "data: two", "", "id: 3", "data: x"]

    assert list(server_sent_data(lines)) == ["one\ntwo"]


def test_a_done_cut_from_its_blank_line_still_ends_the_stream() -> None:
    assert list(server_sent_data(["data: a", "", "data: [DONE]"])) == ["a", "[DONE]"]


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)

    assert retry_after_seconds("7") == 7.0
    assert 25 <= (retry_after_seconds(later) or 0) <= 30
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_chunks_without_choices_are_skipped() -> None:
    usage = 'data: {"choices": [], "usage": {"total_tokens": 3}}\n\n'
    assistant = answering(chunk("Hi") + usage + "data: [DONE]\n\n")

    assert list(assistant.stream_reply(MESSAGES)) == ["Hi"]


def test_a_whole_json_completion_is_one_delta() -> None:
    body = json.dumps({"choices": [{"message": {"role": "assistant", "content": "Whole."}}]})

    assert list(answering(body, "application/json").stream_reply(MESSAGES)) == ["Whole."]


def test_an_error_event_after_a_token_interrupts_the_reply() -> None:
    error = 'data: {"error": {"message": "overloaded", "type": "server_error"}}\n\n'

    with pytest.raises(AssistantInterrupted, match="overloaded") as raised:
        list(answering(chunk("Par") + error).stream_reply(MESSAGES))

    assert raised.value.text == "Par"


def test_a_chunk_that_is_not_json_is_a_bad_response_not_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, text="data: {\n\n"
        )

    assistant = OpenAIAssistant(
        "http://assistant.test/v1", model="m", transport=httpx.MockTransport(handler)
    )

    with pytest.raises(AssistantUnavailable) as raised:
        list(assistant.stream_reply(MESSAGES))

    assert raised.value.details["reason"] == "bad_response" and len(calls) == 1


def test_credentials_in_the_base_url_stay_out_of_messages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"error": {"message": "down", "type": "x", "code": None}})

    assistant = OpenAIAssistant(
        "http://user:secret@assistant.test/v1?key=secret",
        model="m",
        max_attempts=1,
        transport=httpx.MockTransport(handler),
    )

    with pytest.raises(AssistantUnavailable) as raised:
        list(assistant.stream_reply(MESSAGES))

    assert "secret" not in raised.value.message
