"""One table from domain errors to HTTP statuses, and handlers rendering `{"error": ...}`.

Database failures met while handling a request (a connection refused or lost, a pool that
could not hand out a connection in time, the server refusing one for want of slots) answer
``503 store_unavailable`` with ``Retry-After``; the driver's words go to the log, not to the
client, and a run of refusals is logged once (``eventstore.connections.REFUSALS``). Anything else
unexpected is logged once and answered 500 (``unexpected_error``, from
``api.middleware.RequestMiddleware``).
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from eventsourcing import persistence
from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from domain import errors as e
from eventstore.connections import REFUSALS, is_refusal

log = logging.getLogger(__name__)

STATUS: dict[type[e.ChronicleError], int] = {
    e.ChronicleError: 400,
    e.NotFound: 404,
    e.InvalidCommand: 422,
    e.IdempotencyKeyReused: 422,
    e.TooLarge: 413,
    e.ChecksumMismatch: 422,
    e.UnsupportedImage: 415,
    e.PreconditionRequired: 428,
    e.InsufficientCredits: 402,
    e.QuotaExceeded: 429,
    e.RateLimited: 429,
    e.Conflict: 409,
    e.AlreadyExists: 409,
    e.ConcurrentJobLimitReached: 409,
    e.RuleSlotLimitReached: 409,
    e.ReservationSettled: 409,
    e.IllegalTransition: 409,
    e.UploadsMissing: 409,
    e.LeaseNotHeld: 409,
    e.MeaningSearchUnavailable: 409,
    e.NotAMember: 409,
    e.RoomFull: 409,
    e.VersionConflict: 409,
    e.Unauthenticated: 401,
    e.Forbidden: 403,
    e.Unavailable: 503,
    e.ProjectionBehind: 503,
    e.EventStoreUnavailable: 503,
    e.ObjectStoreUnavailable: 503,
    e.AssistantUnavailable: 503,
    e.AssistantInterrupted: 503,
}


# Raised by psycopg, its pool, or the eventsourcing library (which wraps psycopg's).
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,  # PoolTimeout is one
    psycopg.InterfaceError,
    PoolTimeout,
    persistence.OperationalError,
    persistence.InterfaceError,
)
# 400 is only ever the framework's: a body it could not parse (JSON, multipart, encoding).
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
HTTP_CODES = {
    400: "malformed_body",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


# The handlers are async: a sync one would need a free request thread to answer an error.
async def chronicle_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, e.ChronicleError)
    status = STATUS[type(exc)]
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 503:
        headers["Retry-After"] = "1"
    return JSONResponse(error_body(exc.code, exc.message, **exc.details), status, headers=headers)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # A body of another declared type reaches a JSON route unparsed, whole: not a field problem.
    media = request.headers.get("content-type")
    if media and not _json(media) and any(err["loc"] == ("body",) for err in exc.errors()):
        message = f"the body must be JSON (Content-Type: application/json), not {media!r}"
        return JSONResponse(error_body("unsupported_media_type", message), 415)
    # A body that is not JSON at all is malformed (400), not invalid field by field (422).
    broken = next((err for err in exc.errors() if err["type"] == "json_invalid"), None)
    if broken is not None:
        where = broken["loc"][-1] if len(broken["loc"]) > 1 else "?"
        problem = broken.get("ctx", {}).get("error", "JSON decode error")
        message = f"the body is not valid JSON ({problem} at character {where})"
        return JSONResponse(error_body("malformed_body", message), 400)
    fields = [
        {"field": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]}
        for err in exc.errors()
    ]
    message = "; ".join(f"{f['field']}: {f['problem']}" for f in fields)
    return JSONResponse(error_body("invalid_request", message, fields=fields), 422)


async def websocket_validation_error(websocket: WebSocket, exc: Exception) -> None:
    """A socket's bad query closes with 1008 and the problem: refused at the handshake (FastAPI's
    way), a client would see only ``403`` and a browser's WebSocket only 1006."""
    assert isinstance(exc, WebSocketRequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
    )
    await websocket.accept()
    await websocket.close(1008, reason=close_reason(problems))


def close_reason(text: str) -> str:
    """``text`` cut to fit a WebSocket close frame's reason (at most 123 bytes of UTF-8)."""
    return text.encode()[:120].decode(errors="ignore")


def _json(media: str) -> bool:
    """Whether a Content-Type is one FastAPI reads as JSON (``application/json``, ``…+json``)."""
    kind, _, subtype = media.split(";", 1)[0].strip().lower().partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    message = str(exc.detail)
    if exc.status_code == 400:
        message = f"the body could not be parsed: {message}"
    if exc.status_code == 405:
        # Starlette names the method of the first route on the path; every route counts.
        allowed = allowed_methods(request) or [headers.get("Allow", "")]
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.method} is not allowed on this path; it takes {headers['Allow']}"
    return JSONResponse(error_body(code, message), exc.status_code, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app accepts on the request's path, in a stable order."""
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    if is_refusal(exc):
        REFUSALS.refused(f"{request.method} {request.url.path}", exc)
    elif not REFUSALS.active:  # a pool waiting on a refusing server: that episode is logged
        log.warning(
            "database unavailable on %s %s: %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
            " ".join(str(exc).split()),
        )
    unavailable = e.EventStoreUnavailable("the database cannot be reached; retry shortly")
    return await chronicle_error(request, unavailable)


def unexpected_error(scope: dict[str, Any]) -> JSONResponse:
    """The 500 answer to the exception being handled, logged once with its traceback.

    ``api.middleware.RequestMiddleware`` catches it: Starlette's own last-resort handler would
    re-raise after answering, and the server would log the exception again.
    """
    log.exception("unhandled error on %s %s", scope["method"], scope["path"])
    return JSONResponse(error_body("internal", "an unexpected error occurred"), 500)


def install(app: FastAPI) -> None:
    """Render every error as ``{"error": {"code", "message"}}`` (a 500: ``unexpected_error``)."""
    app.add_exception_handler(e.ChronicleError, chronicle_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(WebSocketRequestValidationError, websocket_validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for database_failure in DATABASE_ERRORS:
        app.add_exception_handler(database_failure, database_error)
