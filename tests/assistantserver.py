"""A local OpenAI-compatible chat-completions server for tests, on a real socket.

It checks each request as the API documents it (``POST /v1/chat/completions``, a JSON body with
``model``, ``messages`` of ``{"role", "content"}`` and ``"stream": true``, the bearer key when
one is expected) and answers a refusal with the API's error body ``{"error": {"message",
"type", "code"}}``. A reply streams as the API does: HTTP/1.1 chunked ``text/event-stream``, a
first chunk with the role, one ``chat.completion.chunk`` per token, a last one with
``finish_reason``, then ``data: [DONE]``. Tell it how to answer the next requests with
``then(Answer(...), ...)``; past them it streams ``DEFAULT_TOKENS``.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_TOKENS = ("Hello", ",", " world", ".")
ROLES = {"system", "user", "assistant"}


@dataclass(frozen=True)
class Answer:
    """How the server answers one request."""

    tokens: tuple[str, ...] = DEFAULT_TOKENS
    status: int = 200
    error: tuple[str, str, str | None] | None = None  # message, type, code of a refusal
    headers: dict[str, str] = field(default_factory=dict)
    drop_after: int | None = None  # close the connection after this many tokens
    first_byte_delay: float = 0.0  # seconds before anything is sent
    done: bool = True  # end with data: [DONE]
    token_delay: float = 0.0  # seconds before each token


class AssistantServer:
    """The fake API: its ``base_url``, the requests it received, and what it answers next."""

    def __init__(self, *, api_key: str | None = None, models: tuple[str, ...] = ("small",)):
        self.api_key = api_key
        self.models = models
        self.requests: list[dict[str, Any]] = []  # {"headers": ..., "body": ...}
        self._answers: deque[Answer] = deque()
        self._lock = threading.Lock()
        self.stopping = threading.Event()  # cuts a slow first byte short at the end
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        # A short poll, so that stopping takes milliseconds rather than the default half second.
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def then(self, *answers: Answer) -> AssistantServer:
        """Answer the next requests with ``answers``, in order."""
        with self._lock:
            self._answers.extend(answers)
        return self

    def next_answer(self) -> Answer:
        with self._lock:
            return self._answers.popleft() if self._answers else Answer()

    def record(self, headers: dict[str, str], body: Any) -> None:
        with self._lock:
            self.requests.append({"headers": headers, "body": body})

    def start(self) -> AssistantServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._http.shutdown()
        self._http.server_close()


@contextmanager
def assistant_server(**options: Any) -> Iterator[AssistantServer]:
    """A running ``AssistantServer``, stopped at the end."""
    server = AssistantServer(**options).start()
    try:
        yield server
    finally:
        server.stop()


def _handler(server: AssistantServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            server.record(headers, body)
            answer = server.next_answer()
            if answer.first_byte_delay:
                server.stopping.wait(answer.first_byte_delay)
            problem = self._problem(headers, body)
            if problem is not None:
                self._refuse(*problem)
            elif answer.status != 200:
                message, kind, code = answer.error or ("refused", "server_error", None)
                self._refuse(answer.status, message, kind, code, answer.headers)
            else:
                self._stream(body["model"], answer)

        def _problem(self, headers: dict[str, str], body: Any) -> tuple[Any, ...] | None:
            if self.path != "/v1/chat/completions":
                return 404, f"no route {self.path}", "invalid_request_error", "unknown_url"
            if server.api_key and headers.get("authorization") != f"Bearer {server.api_key}":
                return (
                    401,
                    "Incorrect API key provided.",
                    "invalid_request_error",
                    "invalid_api_key",
                )
            if headers.get("content-type") != "application/json" or not isinstance(body, dict):
                return 400, "the body must be JSON", "invalid_request_error", None
            messages = body.get("messages")
            if (
                not isinstance(messages, list)
                or not messages
                or any(
                    set(m) != {"role", "content"}
                    or m["role"] not in ROLES
                    or not _content_ok(m["content"])
                    for m in messages
                )
            ):
                return 400, "messages must be role and content", "invalid_request_error", None
            if body.get("stream") is not True:
                return 400, "this server only streams", "invalid_request_error", None
            if body.get("model") not in server.models:
                model = body.get("model")
                message = f"The model `{model}` does not exist or you do not have access to it."
                return 404, message, "invalid_request_error", "model_not_found"
            return None

        def _refuse(
            self,
            status: int,
            message: str,
            kind: str,
            code: str | None,
            headers: dict[str, str] | None = None,
        ) -> None:
            payload = json.dumps({"error": {"message": message, "type": kind, "code": code}})
            data = payload.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, model: str, answer: Answer) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self._event(_chunk(model, {"role": "assistant", "content": ""}, None))
            for sent, token in enumerate(answer.tokens):
                if answer.drop_after is not None and sent == answer.drop_after:
                    self.close_connection = True  # no last chunk: the client sees it cut
                    return
                if answer.token_delay and server.stopping.wait(answer.token_delay):
                    return
                self._event(_chunk(model, {"content": token}, None))
            if answer.drop_after is not None and answer.drop_after >= len(answer.tokens):
                self.close_connection = True
                return
            self._event(_chunk(model, {}, "stop"))
            if answer.done:
                self._write(b"data: [DONE]\n\n")
            self._write(b"")  # the last chunk of the body

        def _event(self, chunk: dict[str, Any]) -> None:
            self._write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())

        def _write(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler


def _chunk(model: str, delta: dict[str, str], finish_reason: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1764892800,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def _content_ok(content: Any) -> bool:
    """Text, or a list of content parts: text, and images by URL (the API's documented shapes)."""
    if isinstance(content, str):
        return True
    return (
        isinstance(content, list)
        and bool(content)
        and all(
            (part.get("type") == "text" and isinstance(part.get("text"), str))
            or (
                part.get("type") == "image_url"
                and isinstance(part.get("image_url"), dict)
                and isinstance(part["image_url"].get("url"), str)
            )
            for part in content
            if isinstance(part, dict)
        )
        and all(isinstance(part, dict) for part in content)
    )
