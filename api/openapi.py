"""The OpenAPI document: the error answers in their real shape, presets as an enum.

A ``400 malformed_body`` (a JSON or multipart body that does not parse) is documented on every
operation that takes such a body, and on no other.

The bearer scheme is declared by the ``HTTPBearer`` dependency of ``api.deps``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI

from api.errors import STATUS
from api.schemas.errors import ErrorBody

# Statuses answered by the edge itself rather than a domain error, and their codes.
EDGE_CODES = {
    400: ["malformed_body"],
    404: ["not_found"],
    413: ["payload_too_large"],
    422: ["invalid_request"],
    429: ["rate_limited"],
    503: ["store_unavailable"],
}
# A path parameter's convertor (``{key:path}``), which the document leaves out.
CONVERTOR = re.compile(r"\{(\w+):\w+\}")
# A read never conflicts nor spends credits.
NOT_ON_READS = {"402", "409"}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of ``statuses``, each naming its codes."""
    return {status: {"model": ErrorBody, "description": _describe(status)} for status in statuses}


def install(app: FastAPI, documented: Sequence[APIRouter] = ()) -> None:
    """Serve the refined document, its paths in the order of the ``documented`` routers'
    routes (whatever order the app tries them in); presets are filled in once the services
    are up."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = FastAPI.openapi(app)  # built and cached by FastAPI
        _order_paths(schema, [getattr(route, "path", "") for r in documented for route in r.routes])
        _drop_read_only_errors(schema)
        _drop_malformed_without_body(schema)
        services = getattr(app.state, "services", None)
        if services is None:
            app.openapi_schema = None  # build again once the presets are known
        else:
            _enum_presets(schema, sorted(p.id for p in services.presets.all()))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _order_paths(schema: dict[str, Any], order: list[str]) -> None:
    """List the paths in ``order``; those it does not name follow, in the order they had."""
    paths = schema.get("paths", {})
    named = (CONVERTOR.sub(r"{\1}", path) for path in order)  # as the document writes them
    first = {path: paths[path] for path in dict.fromkeys(named) if path in paths}
    schema["paths"] = {**first, **paths}


def _describe(status: int) -> str:
    # The root of the tree is never raised itself: its code is no answer.
    codes = [cls.code for cls, mapped in STATUS.items() if mapped == status and cls.code != "error"]
    codes = sorted({*codes, *EDGE_CODES.get(status, [])})
    return "Error codes: " + ", ".join(f"`{code}`" for code in codes)


def _drop_read_only_errors(schema: dict[str, Any]) -> None:
    for operations in schema.get("paths", {}).values():
        read = operations.get("get")
        if read:
            for status in NOT_ON_READS:
                read.get("responses", {}).pop(status, None)


def _drop_malformed_without_body(schema: dict[str, Any]) -> None:
    """Only an operation that parses a body (JSON or a form) can find it malformed."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            parsed = {"application/json", "multipart/form-data"} & set(content)
            if not parsed:
                operation.get("responses", {}).pop("400", None)


def _enum_presets(schema: dict[str, Any], presets: list[str]) -> None:
    """Make ``preset`` of every request body an enum of the configured presets."""
    components = schema.get("components", {}).get("schemas", {})
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref", "")
            body = components.get(ref.rpartition("/")[2], {})
            preset = body.get("properties", {}).get("preset")
            if preset is not None and preset.get("type") == "string":
                preset["enum"] = presets
