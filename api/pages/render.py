"""The pages' Jinja2 templates: one autoescaped environment, and filters that print JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

# Autoescaped whatever a template is named: event data is anyone's text (a rule name, a title).
environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=environment)
PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS


def pretty(value: Any) -> str:
    """``value`` (JSON-ready) as indented JSON, non-ASCII text kept readable.

    orjson writes the same text as ``json.dumps(indent=2, sort_keys=True)`` some thirty times
    faster (fifty rows a page); what it refuses (an integer past 64 bits) goes to ``json``.
    """
    try:
        return orjson.dumps(value, option=PRETTY, default=str).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def compact(value: Any) -> str:
    """``value`` (JSON-ready) as one line of JSON, for a diff's old and new values."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def moment(value: datetime | None) -> str:
    """``value`` in UTC to the millisecond, or a dash for an event stored without a time."""
    if value is None:
        return "—"
    return value.astimezone(UTC).isoformat(sep=" ", timespec="milliseconds").replace("+00:00", "Z")


environment.filters.update(pretty=pretty, compact=compact, moment=moment)


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The template ``name`` rendered with ``context``, never cached by a shared cache."""
    response = templates.TemplateResponse(request, name, context, status_code=status)
    # The pages show who did what: no proxy or browser history cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response
