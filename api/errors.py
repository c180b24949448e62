"""One table from domain errors to HTTP statuses, and handlers rendering `{"error": ...}`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain import errors as e

log = logging.getLogger(__name__)

STATUS: dict[type[e.ChronicleError], int] = {
    e.ChronicleError: 400,
    e.NotFound: 404,
    e.InvalidCommand: 422,
    e.IdempotencyKeyReused: 422,
    e.InsufficientCredits: 402,
    e.Conflict: 409,
    e.AlreadyExists: 409,
    e.ConcurrentJobLimitReached: 409,
    e.RuleSlotLimitReached: 409,
    e.ReservationSettled: 409,
    e.IllegalTransition: 409,
    e.UploadsMissing: 409,
    e.LeaseNotHeld: 409,
    e.VersionConflict: 409,
    e.Unauthenticated: 401,
    e.Forbidden: 403,
    e.Unavailable: 503,
    e.ProjectionBehind: 503,
    e.EventStoreUnavailable: 503,
    e.ObjectStoreUnavailable: 503,
}


def error_body(code: str, message: str, **extra: object) -> dict[str, object]:
    return {"error": {"code": code, "message": message, **extra}}


def chronicle_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, e.ChronicleError)
    status = STATUS[type(exc)]
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 503:
        headers["Retry-After"] = "1"
    return JSONResponse(error_body(exc.code, exc.message, **exc.details), status, headers=headers)


def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"field": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]}
        for err in exc.errors()
    ]
    message = "; ".join(f"{f['field']}: {f['problem']}" for f in fields)
    return JSONResponse(error_body("invalid_request", message, fields=fields), 422)


def http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=exc.headers)


def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("internal", "an unexpected error occurred"), 500)


def install(app: FastAPI) -> None:
    """Render every error as ``{"error": {"code", "message"}}``."""
    app.add_exception_handler(e.ChronicleError, chronicle_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
