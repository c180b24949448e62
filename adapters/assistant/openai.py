"""The assistant over the OpenAI-compatible chat-completions API (OpenAI, Gemini, Ollama, vLLM,
llama.cpp's server): ``POST {base_url}/chat/completions`` with ``"stream": true``.

The answer is server-sent events: ``data: {chunk}`` lines, each chunk's text in
``choices[0].delta.content``, ended by ``data: [DONE]``. A server that answers the whole
completion as JSON instead (``choices[0].message.content``) is read as one delta.

How each failure reaches the caller (``reason`` is the error's detail; see ``port.py``):

    connect fails                 unreachable      retried
    no byte within the timeout    timeout          retried
    connection lost, no [DONE]    dropped          retried
    401, 403                      unauthorized     the key is wrong: not retried
    404                           model_not_found  no such model (or endpoint): not retried
    429                           rate_limited     retried after Retry-After (or the backoff),
                                                   unless it asks longer than max_retry_after
    5xx, an error event           server_error     retried
    other 4xx                     rejected         not retried
    a chunk that is not JSON      bad_response     not retried

Retries happen only before the first delta, at most ``max_attempts`` attempts in all, waiting
``backoff_seconds`` doubled each time (halved at random, so that callers do not return at once).
Once a delta has been yielded, any failure is ``AssistantInterrupted`` carrying the text so far.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from domain.assistant import Turn
from domain.errors import AssistantInterrupted, AssistantUnavailable

RETRIED = frozenset({"unreachable", "timeout", "dropped", "rate_limited", "server_error"})
_ERROR_TEXT = 300  # characters of an error answer kept in a message


class OpenAIAssistant:
    """Streams replies from an OpenAI-compatible ``/chat/completions`` endpoint."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        api_key: str | None = None,
        timeout_seconds: float = 30.0,
        max_attempts: int = 3,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 8.0,
        max_retry_after_seconds: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.model = model
        self._url = base_url.rstrip("/") + "/chat/completions"
        # Named without credentials (user info, a query string) for messages and logs.
        self._where = str(httpx.URL(self._url).copy_with(userinfo=b"", query=None, fragment=None))
        headers = {"Accept": "text/event-stream"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        # One timeout for connecting and for each read: the wait for the first byte, and the
        # longest silence between two chunks of a reply.
        self._client = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout_seconds), transport=transport
        )
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._max_retry_after = max_retry_after_seconds
        self._sleep = sleep

    def close(self) -> None:
        """Close the connections kept for the next replies."""
        self._client.close()

    def stream_reply(
        self, messages: list[Turn], *, model: str | None = None, max_tokens: int | None = None
    ) -> Iterator[str]:
        """The reply to ``messages`` as text deltas, in order (see the module for failures)."""
        chosen = model or self.model
        body: dict[str, Any] = {
            "model": chosen,
            "messages": [{"role": turn.role, "content": _content(turn)} for turn in messages],
            "stream": True,
        }
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        said: list[str] = []
        for attempt in range(1, self._max_attempts + 1):
            try:
                # Closed at once when the caller stops early, which closes the HTTP stream.
                with closing(self._attempt(body, chosen)) as deltas:
                    for delta in deltas:
                        said.append(delta)
                        yield delta
                return
            except AssistantUnavailable as exc:
                error = exc
            except httpx.HTTPError as exc:
                error = self._outage(exc)
                error.__cause__ = exc
            if said:
                raise AssistantInterrupted(
                    f"the assistant's reply broke off after {len(''.join(said))} characters: "
                    f"{error.message}",
                    reason=error.details.get("reason"),
                    text="".join(said),
                ) from error
            wait = self._wait(error, attempt)
            if wait is None:
                raise error
            self._sleep(wait)
        raise AssertionError("unreachable: the last attempt raises or returns")

    def _attempt(self, body: dict[str, Any], model: str) -> Generator[str]:
        with self._client.stream("POST", self._url, json=body) as response:
            if not response.is_success:
                response.read()
                raise self._refusal(response, model)
            if response.headers.get("content-type", "").startswith("application/json"):
                response.read()
                yield from _whole(self._json(response.text))
                return
            yield from self._deltas(response.iter_lines())

    def _deltas(self, lines: Iterable[str]) -> Iterator[str]:
        finished = False
        for data in server_sent_data(lines):
            if data.strip() == "[DONE]":
                return
            chunk = self._json(data)
            if "error" in chunk:
                raise AssistantUnavailable(
                    f"the assistant at {self._where} failed mid-answer: {_message(chunk)}",
                    reason="server_error",
                )
            choices = chunk.get("choices") or []
            if not choices:
                continue  # a usage chunk, or a keep-alive
            choice = choices[0]
            content = (choice.get("delta") or {}).get("content")
            if content:
                yield content
            finished = finished or bool(choice.get("finish_reason"))
        if not finished:  # neither [DONE] nor a finish reason: the stream was cut
            raise AssistantUnavailable(
                f"the assistant at {self._where} closed the stream before its end",
                reason="dropped",
            )

    def _json(self, text: str) -> dict[str, Any]:
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise AssistantUnavailable(
                f"the assistant at {self._where} sent what is not a JSON object: "
                f"{text[:_ERROR_TEXT]!r}",
                reason="bad_response",
            )
        return value

    def _refusal(self, response: httpx.Response, model: str) -> AssistantUnavailable:
        status = response.status_code
        said = _message(_parsed(response.text)) or response.text[:_ERROR_TEXT]
        where = self._where
        if status in (401, 403):
            return AssistantUnavailable(
                f"the assistant at {where} refused its API key ({status}): {said}",
                reason="unauthorized",
                status=status,
            )
        if status == 404:
            return AssistantUnavailable(
                f"the assistant at {where} has no model {model!r} or no chat-completions "
                f"endpoint (404): {said}",
                reason="model_not_found",
                status=status,
            )
        if status == 429:
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            extra = {} if retry_after is None else {"retry_after": retry_after}
            return AssistantUnavailable(
                f"the assistant at {where} is rate limiting (429): {said}",
                reason="rate_limited",
                status=status,
                **extra,
            )
        reason = "server_error" if status >= 500 else "rejected"
        return AssistantUnavailable(
            f"the assistant at {where} answered {status}: {said}", reason=reason, status=status
        )

    def _outage(self, exc: httpx.HTTPError) -> AssistantUnavailable:
        if isinstance(exc, httpx.TimeoutException):
            reason, what = "timeout", "did not answer in time"
        elif isinstance(exc, httpx.ConnectError):
            reason, what = "unreachable", "cannot be reached"
        else:
            reason, what = "dropped", "lost the connection"
        return AssistantUnavailable(
            f"the assistant at {self._where} {what}: {exc or type(exc).__name__}", reason=reason
        )

    def _wait(self, error: AssistantUnavailable, attempt: int) -> float | None:
        """How long to wait before the next attempt, or None when none should follow."""
        if error.details.get("reason") not in RETRIED or attempt >= self._max_attempts:
            return None
        retry_after = error.details.get("retry_after")
        if isinstance(retry_after, int | float):
            return float(retry_after) if retry_after <= self._max_retry_after else None
        delay = min(self._backoff * 2 ** (attempt - 1), self._max_backoff)
        return delay * (0.5 + random.random() / 2)


def server_sent_data(lines: Iterable[str]) -> Iterator[str]:
    """The ``data`` of each server-sent event in ``lines`` (multi-line data joined by ``\\n``);
    comments, other fields and an event cut off by the end (but ``[DONE]``) are skipped."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data and "\n".join(data).strip() == "[DONE]":
        yield "[DONE]"


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now (it is seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _whole(completion: dict[str, Any]) -> Iterator[str]:
    choices = completion.get("choices") or []
    content = (choices[0].get("message") or {}).get("content") if choices else None
    if content:
        yield content


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _message(body: Any) -> str:
    """The message of an error body: ``{"error": {"message", "type", "code"}}`` (or a string)."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str):
        return error[:_ERROR_TEXT]
    if isinstance(error, dict):
        parts = [str(error.get("message") or "")]
        kind = error.get("code") or error.get("type")
        if kind:
            parts.append(f"[{kind}]")
        return " ".join(p for p in parts if p)[:_ERROR_TEXT]
    return ""


def _content(turn: Turn) -> str | list[dict[str, Any]]:
    """A message's content: its text, or its text and images as the API's content parts."""
    if not turn.images:
        return turn.content
    parts: list[dict[str, Any]] = [{"type": "text", "text": turn.content}]
    parts += [{"type": "image_url", "image_url": {"url": url}} for url in turn.images]
    return parts
