"""A request id on every request and response (``X-Request-ID``), the correlation id of events."""

import uuid
from typing import Any

REQUEST_ID = b"x-request-id"


class RequestIdMiddleware:
    """Takes the caller's ``X-Request-ID`` (or makes one) and echoes it on the response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(REQUEST_ID, b"").decode("latin-1")
        request_id = given if 0 < len(given) <= 128 and given.isprintable() else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((REQUEST_ID, request_id.encode()))
            await send(message)

        await self.app(scope, receive, send_with_id)
