"""What every request passes before a route: a request id, printable URLs, a body size limit.

- ``X-Request-ID``: the caller's (1 to 128 URL-safe characters: ``A-Z a-z 0-9 . _ ~ -``) or a
  new one, echoed on the response and used as the correlation id of the events it causes.
  Correlation ids go into URL paths (``/api/admin/correlations/{id}``, the viewer's links), so
  an id holding ``/``, ``?``, ``#`` or a space would be recorded yet unreachable: it is refused.
- The path and the query string, decoded, hold printable text only: U+0000 and other
  control characters are refused with a 422 naming the parameter, before any route runs.
- A request body larger than ``request_max_bytes`` is refused with ``413 payload_too_large``,
  counted while it streams in (a missing or false ``Content-Length`` is no way around it);
  the local object store's upload route has its own, larger limit, and the test image
  routes take ``image_max_bytes`` plus room for the multipart framing (the route itself
  then holds the image to ``image_max_bytes``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from api.errors import error_body

REQUEST_ID = b"x-request-id"
# RFC 3986's unreserved characters: a path segment that needs no encoding anywhere.
URL_SAFE_ID = re.compile(r"[A-Za-z0-9._~-]{1,128}")
REQUEST_MAX_BYTES = 1024 * 1024  # until the services (and their settings) are up
UPLOADS = ("/storage/upload/", "/storage/parts/")  # limited by upload_max_bytes, in the route
# The test image uploads (api.routes.testimages): an image, plus its multipart framing.
IMAGE_ROUTES = re.compile(r"/api/admin/tests/[^/]+/(images|results/[^/]+/image)")
MULTIPART_ROOM = 64 * 1024  # boundaries, part headers, a question index


class HttpMiddleware:
    """A pure ASGI middleware of HTTP requests: other scopes (lifespan, websockets) pass by."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        else:
            await self.handle(scope, receive, send)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Handle one HTTP request (call ``self.app`` to pass it on)."""
        raise NotImplementedError


class RequestIdMiddleware(HttpMiddleware):
    """Takes the caller's ``X-Request-ID`` (or makes one) and echoes it on the response."""

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        given = dict(scope["headers"]).get(REQUEST_ID)
        if given is None:
            request_id = uuid.uuid4().hex
        else:
            request_id = given.decode("latin-1")
            if not URL_SAFE_ID.fullmatch(request_id):
                message = "X-Request-ID must be 1 to 128 of the characters A-Z a-z 0-9 . _ ~ -"
                await _refuse(scope, receive, send, 422, "invalid_request", message)
                return
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((REQUEST_ID, request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)


class PrintableUrlMiddleware(HttpMiddleware):
    """Refuses a path or query parameter holding U+0000 or another unprintable character."""

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        problem = _unprintable_url(scope)
        if problem:
            await _refuse(scope, receive, send, 422, "invalid_request", problem)
        else:
            await self.app(scope, receive, send)


class BodyLimitMiddleware(HttpMiddleware):
    """Refuses a request body past ``request_max_bytes`` with 413, however it is sent."""

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"].startswith(UPLOADS):
            await self.app(scope, receive, send)
            return
        limit = _limit(scope)
        message = f"the request body is larger than the limit of {limit} bytes"
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(scope, receive, send, 413, "payload_too_large", message)
            return
        received = 0

        async def counting() -> dict[str, Any]:
            nonlocal received
            event = await receive()
            received += len(event.get("body", b""))
            if received > limit:
                # Raised inside the route's body read; FastAPI lets HTTPException through.
                raise HTTPException(413, message)
            return event

        await self.app(scope, counting, send)


def _limit(scope: dict[str, Any]) -> int:
    services = getattr(scope["app"].state, "services", None) if "app" in scope else None
    if services is None:
        return REQUEST_MAX_BYTES
    settings = services.settings
    if IMAGE_ROUTES.fullmatch(scope["path"]):
        return max(settings.request_max_bytes, settings.image_max_bytes + MULTIPART_ROOM)
    return settings.request_max_bytes


def _unprintable_url(scope: dict[str, Any]) -> str | None:
    """What is unprintable in the decoded path or query string, or None."""
    if not scope["path"].isprintable():
        return "the URL path must hold printable characters only"
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if not name.isprintable():
            return "query parameter names must hold printable characters only"
        if not value.isprintable():
            return f"query.{name}: must hold printable characters only (no U+0000)"
    return None


async def _refuse(
    scope: dict[str, Any], receive: Any, send: Any, status: int, code: str, message: str
) -> None:
    await JSONResponse(error_body(code, message), status)(scope, receive, send)
