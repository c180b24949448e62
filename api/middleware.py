"""What every HTTP request passes before a route, in one pure ASGI layer: ``RequestMiddleware``.

In this order, each concern in a function of its own:

1. Metrics (``api.metrics.count_request``): every answer is counted and timed, the refusals
   of the steps below included.
2. ``X-Request-ID``: the caller's (1 to 128 URL-safe characters: ``A-Z a-z 0-9 . _ ~ -``) or a
   new one, echoed on the response and used as the correlation id of the events it causes.
   Correlation ids go into URL paths (``/api/admin/correlations/{id}``, the viewer's links), so
   an id holding ``/``, ``?``, ``#`` or a space would be recorded yet unreachable: it is refused.
3. An unexpected exception from here on is logged once and answered 500
   (``api.errors.unexpected_error``).
4. Rate limits (``api.ratelimit.rate_limit``), before any body is read.
5. The path and the query string, decoded, hold printable text only: U+0000 and other
   control characters are refused with a 422 naming the parameter, before any route runs.
6. A request body larger than ``request_max_bytes`` is refused with ``413 payload_too_large``,
   counted while it streams in (a missing or false ``Content-Length`` is no way around it);
   the local object store's upload route has its own, larger limit, and the test image
   routes take ``image_max_bytes`` plus room for the multipart framing (the route itself
   then holds the image to ``image_max_bytes``).

One layer rather than one per concern: every layer of a stack is another call, another
``send`` wrapper and often another ``receive`` wrapper on every request.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import Message

from api.errors import close_reason, error_body, unexpected_error
from api.metrics import count_request
from api.ratelimit import SOCKET_RATE_LIMITED, rate_limit, socket_refusal

REQUEST_ID = b"x-request-id"
# RFC 3986's unreserved characters: a path segment that needs no encoding anywhere.
URL_SAFE_ID = re.compile(r"[A-Za-z0-9._~-]{1,128}")
BAD_REQUEST_ID = "X-Request-ID must be 1 to 128 of the characters A-Z a-z 0-9 . _ ~ -"
REQUEST_MAX_BYTES = 1024 * 1024  # until the services (and their settings) are up
UPLOADS = ("/storage/upload/", "/storage/parts/")  # limited by upload_max_bytes, in the route
# The test image uploads (api.routes.testimages): an image, plus its multipart framing.
IMAGE_ROUTES = re.compile(r"/api/admin/tests/[^/]+/(images|results/[^/]+/image)")
MULTIPART_ROOM = 64 * 1024  # boundaries, part headers, a question index


class RequestMiddleware:
    """The edge of every HTTP request, steps 1 to 6 above; a WebSocket is counted against the
    rate limits (step 4) and passes by; lifespan passes by."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        services = getattr(scope["app"].state, "services", None) if "app" in scope else None
        if scope["type"] == "websocket":
            await self._socket(scope, receive, send, services)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began, answer = time.monotonic(), _Answer(send)
        try:
            await self._identified(scope, receive, answer, services)
        finally:
            count_request(services, scope, answer.status or 500, time.monotonic() - began)

    async def _socket(self, scope: dict[str, Any], receive: Any, send: Any, services: Any) -> None:
        """A WebSocket passes by once its opening is counted (a read of its caller); past the
        limit it is accepted, then closed with 4429 and when to retry."""
        refused = await socket_refusal(scope, services)
        if refused is None:
            await self.app(scope, receive, send)
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        close = {"type": "websocket.close", "code": SOCKET_RATE_LIMITED}
        await send({**close, "reason": close_reason(refused)})

    async def _identified(
        self, scope: dict[str, Any], receive: Any, answer: _Answer, services: Any
    ) -> None:
        given = request_id(scope)
        if given is None:
            await _refusal(422, "invalid_request", BAD_REQUEST_ID)(scope, receive, answer.send)
            return
        scope.setdefault("state", {})["request_id"] = given
        answer.request_id = given.encode()
        try:
            await self._checked(scope, receive, answer, services)
        except Exception:
            internal = unexpected_error(scope)
            if answer.status is None:  # else the client sees the response cut short
                answer.rate_headers = []
                await internal(scope, receive, answer.send)

    async def _checked(
        self, scope: dict[str, Any], receive: Any, answer: _Answer, services: Any
    ) -> None:
        refusal, answer.rate_headers = await rate_limit(scope, services)
        if refusal is None:
            refusal = unprintable_url(scope) or declared_too_large(scope, services)
        if refusal is not None:
            await refusal(scope, receive, answer.send)
        else:
            await self.app(scope, limited_body(scope, receive, services), answer.send)


class _Answer:
    """The ``send`` of one request: notes the status and adds the headers the steps collected."""

    __slots__ = ("_send", "status", "request_id", "rate_headers")

    def __init__(self, send: Any) -> None:
        self._send = send
        self.status: int | None = None
        self.request_id: bytes | None = None
        self.rate_headers: list[tuple[bytes, bytes]] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            headers = message.setdefault("headers", [])
            headers.extend(self.rate_headers)
            if self.request_id is not None:
                headers.append((REQUEST_ID, self.request_id))
        await self._send(message)


def request_id(scope: dict[str, Any]) -> str | None:
    """The caller's ``X-Request-ID``, a new one when it sent none, or None when it is unusable."""
    given = dict(scope["headers"]).get(REQUEST_ID)
    if given is None:
        return uuid.uuid4().hex
    decoded = given.decode("latin-1")
    return decoded if URL_SAFE_ID.fullmatch(decoded) else None


def unprintable_url(scope: dict[str, Any]) -> JSONResponse | None:
    """A 422 naming what is unprintable in the decoded path or query string, or None."""
    if not scope["path"].isprintable():
        return _refusal(422, "invalid_request", "the URL path must hold printable characters only")
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if not name.isprintable():
            message = "query parameter names must hold printable characters only"
            return _refusal(422, "invalid_request", message)
        if not value.isprintable():
            message = f"query.{name}: must hold printable characters only (no U+0000)"
            return _refusal(422, "invalid_request", message)
    return None


def declared_too_large(scope: dict[str, Any], services: Any) -> JSONResponse | None:
    """A 413 when the request declares a body past its limit, else None."""
    if scope["path"].startswith(UPLOADS):
        return None
    declared = dict(scope["headers"]).get(b"content-length", b"")
    limit = body_limit(scope, services)
    if declared.isdigit() and int(declared) > limit:
        return _refusal(413, "payload_too_large", _too_large(limit))
    return None


def limited_body(scope: dict[str, Any], receive: Any, services: Any) -> Any:
    """``receive``, raising a 413 inside the route's body read once the body passes its limit."""
    if scope["path"].startswith(UPLOADS):
        return receive
    limit, received = body_limit(scope, services), 0

    async def counting() -> dict[str, Any]:
        nonlocal received
        event: dict[str, Any] = await receive()
        received += len(event.get("body", b""))
        if received > limit:
            # Raised inside the route's body read; FastAPI lets HTTPException through.
            raise HTTPException(413, _too_large(limit))
        return event

    return counting


def body_limit(scope: dict[str, Any], services: Any) -> int:
    """The most bytes a request body on this path may hold."""
    if services is None:
        return REQUEST_MAX_BYTES
    settings = services.settings
    if IMAGE_ROUTES.fullmatch(scope["path"]):
        return max(settings.request_max_bytes, settings.image_max_bytes + MULTIPART_ROOM)
    return settings.request_max_bytes


def _too_large(limit: int) -> str:
    return f"the request body is larger than the limit of {limit} bytes"


def _refusal(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(error_body(code, message), status)
