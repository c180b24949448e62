"""The OpenAI-compatible assistant over real HTTP, against a local server speaking the API."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from adapters.assistant import OpenAIAssistant
from domain.assistant import Turn
from domain.errors import AssistantInterrupted, AssistantUnavailable
from tests.assistantserver import DEFAULT_TOKENS, Answer, AssistantServer, assistant_server

MESSAGES = [Turn("system", "Answer in 'ko'."), Turn("user", "안녕?")]
KEY = "sk-test-key"


@pytest.fixture
def server() -> Iterator[AssistantServer]:
    with assistant_server(api_key=KEY, models=("small", "large")) as running:
        yield running


def connect(server: AssistantServer, **options: object) -> tuple[OpenAIAssistant, list[float]]:
    """An adapter for ``server`` whose waits between attempts are recorded, not slept."""
    waits: list[float] = []
    settings: dict[str, object] = {"api_key": KEY, "timeout_seconds": 5.0, "max_attempts": 3}
    settings.update(options)
    assistant = OpenAIAssistant(
        server.base_url,
        model="small",
        sleep=waits.append,
        **settings,  # type: ignore[arg-type]
    )
    return assistant, waits


def refusal(server: AssistantServer, **options: object) -> AssistantUnavailable:
    assistant, _ = connect(server, **options)
    with pytest.raises(AssistantUnavailable) as raised:
        list(assistant.stream_reply(MESSAGES))
    return raised.value


def test_a_reply_streams_its_deltas_in_order(server: AssistantServer) -> None:
    assistant, _ = connect(server)

    assert list(assistant.stream_reply(MESSAGES)) == list(DEFAULT_TOKENS)


def test_the_request_carries_the_model_messages_stream_and_the_key(server: AssistantServer) -> None:
    assistant, _ = connect(server)

    list(assistant.stream_reply(MESSAGES, model="large", max_tokens=64))

    (request,) = server.requests
    assert request["body"] == {
        "model": "large",
        "messages": [
            {"role": "system", "content": "Answer in 'ko'."},
            {"role": "user", "content": "안녕?"},
        ],
        "stream": True,
        "max_tokens": 64,
    }
    assert request["headers"]["authorization"] == f"Bearer {KEY}"


def test_no_authorization_is_sent_without_a_key() -> None:
    with assistant_server() as server:
        assistant, _ = connect(server, api_key=None)

        assert "".join(assistant.stream_reply(MESSAGES)) == "Hello, world."
        assert "authorization" not in server.requests[0]["headers"]


def test_a_wrong_key_is_unauthorized_and_not_retried(server: AssistantServer) -> None:
    error = refusal(server, api_key="sk-wrong")

    assert (error.details["reason"], error.details["status"]) == ("unauthorized", 401)
    assert "Incorrect API key provided. [invalid_api_key]" in error.message
    assert "sk-wrong" not in error.message
    assert len(server.requests) == 1


def test_an_unknown_model_is_model_not_found_and_not_retried(server: AssistantServer) -> None:
    assistant, _ = connect(server)

    with pytest.raises(AssistantUnavailable, match="no model 'huge'") as raised:
        list(assistant.stream_reply(MESSAGES, model="huge"))

    assert raised.value.details["reason"] == "model_not_found"
    assert len(server.requests) == 1


def test_a_rate_limit_is_retried_after_its_retry_after(server: AssistantServer) -> None:
    server.then(Answer(status=429, headers={"Retry-After": "2"}, error=("slow down", "x", None)))
    assistant, waits = connect(server)

    assert "".join(assistant.stream_reply(MESSAGES)) == "Hello, world."
    assert (waits, len(server.requests)) == ([2.0], 2)


def test_a_rate_limit_asking_too_long_a_wait_is_raised_with_it(server: AssistantServer) -> None:
    server.then(Answer(status=429, headers={"Retry-After": "120"}))

    error = refusal(server)

    assert (error.details["reason"], error.details["retry_after"]) == ("rate_limited", 120.0)
    assert len(server.requests) == 1


def test_a_server_error_before_the_first_token_is_retried(server: AssistantServer) -> None:
    server.then(Answer(status=500, error=("The server had an error", "server_error", None)))
    assistant, waits = connect(server, backoff_seconds=0.5)

    assert "".join(assistant.stream_reply(MESSAGES)) == "Hello, world."
    assert len(server.requests) == 2
    assert len(waits) == 1 and 0.25 <= waits[0] <= 0.5


def test_server_errors_on_every_attempt_raise_the_last(server: AssistantServer) -> None:
    server.then(Answer(status=503), Answer(status=502))

    error = refusal(server, max_attempts=2)

    assert (error.details["reason"], error.details["status"]) == ("server_error", 502)
    assert len(server.requests) == 2


def test_a_drop_after_tokens_is_interrupted_with_the_text_so_far(server: AssistantServer) -> None:
    server.then(Answer(drop_after=2))
    assistant, waits = connect(server)
    received: list[str] = []

    with pytest.raises(AssistantInterrupted) as raised:
        for delta in assistant.stream_reply(MESSAGES):
            received.append(delta)

    assert raised.value.text == "Hello," == "".join(received)
    assert (len(server.requests), waits) == (1, [])  # never retried


def test_a_stream_cut_before_its_end_is_interrupted(server: AssistantServer) -> None:
    server.then(Answer(drop_after=len(DEFAULT_TOKENS)))  # every token, no finish, no [DONE]
    assistant, _ = connect(server)

    with pytest.raises(AssistantInterrupted) as raised:
        list(assistant.stream_reply(MESSAGES))

    assert raised.value.text == "Hello, world."


def test_a_drop_before_the_first_token_is_retried(server: AssistantServer) -> None:
    server.then(Answer(drop_after=0))
    assistant, _ = connect(server)

    assert "".join(assistant.stream_reply(MESSAGES)) == "Hello, world."
    assert len(server.requests) == 2


def test_a_slow_first_byte_times_out(server: AssistantServer) -> None:
    server.then(Answer(first_byte_delay=2.0))

    error = refusal(server, timeout_seconds=0.2, max_attempts=1)

    assert error.details["reason"] == "timeout"


def test_a_slow_first_byte_is_retried_and_then_answered(server: AssistantServer) -> None:
    server.then(Answer(first_byte_delay=2.0))
    assistant, _ = connect(server, timeout_seconds=0.2, max_attempts=2)

    assert "".join(assistant.stream_reply(MESSAGES)) == "Hello, world."


def test_a_stream_with_a_finish_reason_and_no_done_is_complete(server: AssistantServer) -> None:
    server.then(Answer(tokens=("Fine",), done=False))
    assistant, _ = connect(server)

    assert list(assistant.stream_reply(MESSAGES)) == ["Fine"]


def test_an_unreachable_api_is_unavailable_after_its_attempts() -> None:
    with socket.socket() as bound:  # bound, never listening: every connection is refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        waits: list[float] = []
        assistant = OpenAIAssistant(
            f"http://127.0.0.1:{port}/v1", model="small", max_attempts=2, sleep=waits.append
        )

        with pytest.raises(AssistantUnavailable, match="cannot be reached") as raised:
            list(assistant.stream_reply(MESSAGES))

    assert raised.value.details["reason"] == "unreachable" and len(waits) == 1


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "rejected"),
        (401, "unauthorized"),
        (403, "unauthorized"),
        (404, "model_not_found"),
        (422, "rejected"),
        (429, "rate_limited"),
        (500, "server_error"),
        (503, "server_error"),
    ],
)
def test_every_refusal_is_mapped_to_a_reason(
    server: AssistantServer, status: int, reason: str
) -> None:
    server.then(*[Answer(status=status, error=("no", "invalid_request_error", "bad"))] * 3)

    error = refusal(server)

    assert (error.details["reason"], error.details["status"]) == (reason, status)
    assert (
        f"({status}): no [bad]" in error.message or f"answered {status}: no [bad]" in error.message
    )
