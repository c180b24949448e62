"""The audit log's pages: events by filter, one aggregate's versions with diffs, one request.

Every filter lives in the URL's query, so a view can be shared (and bookmarked); a filter that
does not parse is named on the page (422), never a 500. The JSON twins are in api.routes.audit.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import EventStoreDep
from api.pages.render import page
from api.pages.session import AdminSession
from api.reads import BIGINT_MAX, ReadsDep
from domain.errors import NotFound
from projections.audit.history import get_history, get_state
from projections.audit.labels import labels_of
from projections.audit.queries import (
    EventFilter,
    list_aggregate_events,
    list_correlated_events,
    list_events,
)

router = APIRouter(prefix="/admin/audit", include_in_schema=False)
PAGE = 50  # events per page of the log
VERSIONS = 100  # versions per page of an aggregate's history
MAX_TEXT = 200
TEXT_FILTERS = ("aggregate_type", "event_type", "actor", "correlation_id")
FILTERS = ("aggregate_id", "since", "until", *TEXT_FILTERS)
QUERY = (*FILTERS, "cursor")
TIME_EXAMPLE = "an RFC 3339 time such as 2026-12-01T09:30:00Z (no zone means UTC)"


@router.get("", response_class=HTMLResponse)
def audit_log(request: Request, principal: AdminSession, reads: ReadsDep) -> Response:
    """The event log, newest first, by the filters in the URL; `cursor` pages to older events."""
    given = {k: v for k, v in request.query_params.items() if k in QUERY}
    if not all(given.values()):
        # A form sends its empty fields too: drop them, so the shared URL says only what filters.
        return RedirectResponse(_audit_url({k: v for k, v in given.items() if v}), 303)
    filters, before, problems = parse_filters(given)
    rows: list[dict[str, Any]] = []
    if not problems:
        rows = list_events(reads.pool, filters, before=before, limit=PAGE + 1)
    older = None
    if len(rows) > PAGE:
        rows = rows[:PAGE]
        older = _audit_url({**given, "cursor": str(rows[-1]["position"])})
    newest = _audit_url({k: v for k, v in given.items() if k != "cursor"}) if before else None
    labels = labels_of(reads.pool, (row["aggregate_id"] for row in rows))
    return page(
        request,
        "audit_log.html",
        422 if problems else 200,
        principal=principal,
        given=given,
        problems=problems,
        events=rows,
        labels=labels,
        older=older,
        newest=newest,
    )


@router.get("/aggregates/{aggregate_id}", response_class=HTMLResponse)
def aggregate_history(
    request: Request,
    aggregate_id: str,
    principal: AdminSession,
    reads: ReadsDep,
    event_store: EventStoreDep,
) -> Response:
    """One aggregate's versions, each with its diff and its event; `?version=N`: its state then."""
    found = _uuid(aggregate_id)
    version, after = request.query_params.get("version"), request.query_params.get("after", "0")
    if found is None:
        return _error(request, principal, 422, f"{aggregate_id!r} is not an aggregate id")
    if not _count(after) or (version is not None and not _count(version, 1)):
        return _error(request, principal, 422, "version and after are whole numbers, version ≥ 1")

    label = labels_of(reads.pool, [found]).get(found)

    def history(
        versions: list[Any], later: str | None, raw: list[Any], problem: str | None
    ) -> Response:
        return page(
            request,
            "aggregate.html",
            principal=principal,
            id=found,
            label=label,
            versions=versions,
            later=later,
            raw=raw,
            problem=problem,
        )

    try:
        if version is not None:
            state = get_state(event_store, found, int(version))
            return page(
                request, "aggregate_state.html", principal=principal, **state, id=found, label=label
            )
        versions = get_history(event_store, found, after=int(after), limit=VERSIONS + 1)
    except NotFound as exc:
        # An event whose class is gone stops the fold, not the page: its events, raw.
        raw = [] if version else list_aggregate_events(reads.pool, found, limit=1000)
        if not raw:
            return _error(request, principal, 404, exc.message)
        return history([], None, raw, exc.message)
    if len(versions) <= VERSIONS:
        return history(versions, None, [], None)
    later = f"?{urlencode({'after': versions[VERSIONS - 1].version})}"
    return history(versions[:VERSIONS], later, [], None)


@router.get("/correlations/{correlation_id}", response_class=HTMLResponse)
def correlation(
    request: Request, correlation_id: str, principal: AdminSession, reads: ReadsDep
) -> Response:
    """Everything one request caused, across aggregates, in log order, with causation links."""
    if len(correlation_id) > MAX_TEXT:
        return _error(request, principal, 422, f"a correlation id is at most {MAX_TEXT} characters")
    rows = list_correlated_events(reads.pool, correlation_id, limit=1000)
    positions = {row["position"] for row in rows}
    return page(
        request,
        "correlation.html",
        principal=principal,
        correlation_id=correlation_id,
        events=rows,
        labels=labels_of(reads.pool, (row["aggregate_id"] for row in rows)),
        positions=positions,
    )


def parse_filters(given: Mapping[str, str]) -> tuple[EventFilter, int | None, list[str]]:
    """The filter and cursor named by a page's query, and what in it does not parse."""
    problems = [
        f"{name.replace('_', ' ')}: at most {MAX_TEXT} characters"
        for name in TEXT_FILTERS
        if len(given.get(name, "")) > MAX_TEXT
    ]
    aggregate_id = _uuid(given["aggregate_id"]) if "aggregate_id" in given else None
    if "aggregate_id" in given and aggregate_id is None:
        problems.append("aggregate id: not a UUID")
    since, until = _moment(given.get("since")), _moment(given.get("until"))
    for name, value in (("since", since), ("until", until)):
        if name in given and value is None:
            problems.append(f"{name}: not {TIME_EXAMPLE}")
    cursor = given.get("cursor")
    if cursor is not None and not _count(cursor, 1):
        problems.append("cursor: not a position this page gave")
    text = {name: given.get(name) for name in TEXT_FILTERS}
    found = EventFilter(aggregate_id=aggregate_id, since=since, until=until, **text)
    return found, int(cursor) if cursor and not problems else None, problems


def _audit_url(query: Mapping[str, str]) -> str:
    return f"/admin/audit?{urlencode(query)}" if query else "/admin/audit"


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _count(text: str, least: int = 0) -> bool:
    return text.isascii() and text.isdigit() and least <= int(text) <= BIGINT_MAX


def _error(request: Request, principal: Any, status: int, message: str) -> Response:
    return page(request, "error.html", status, principal=principal, code=status, message=message)
