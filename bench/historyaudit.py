"""The audit-page subjects of the history bench: the event list over HTTP, JSON and HTML.

The ``audit_log`` read model is filled by its real projection, rebuilt from position 0 in the
bench process (``projections.engine.rebuild``) before any request. The API runs in a child process
(``chronicle api``: no projectors, so nothing else competes with the requests). JSON clients
send an admin bearer token; page clients sign in at ``/admin/login`` as a browser would and
send the session cookie.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import psycopg

from bench.apiserver import bench_tokens
from bench.bench_tests import getter
from bench.harness import Run, drive
from bench.historydata import ADMIN
from bench.jobload import http_clients
from eventstore.application import open_application
from projections.engine.rebuild import rebuild
from projections.registry import projection_named

HEALTH = "GET /health"
PAGE_SIZE = 50  # the list's default page


def project_audit_log(dsn: str, head: int) -> float:
    """Build the audit_log read model up to ``head`` (a rebuild: pipelined batches, the way
    ``chronicle projections rebuild audit_log`` does it); the seconds it took."""
    app = open_application(dsn, pool_size=2)
    try:
        done = rebuild(dsn, app, projection_named("audit_log"))
    finally:
        app.close()
    if done.position < head:
        raise RuntimeError(f"audit_log reached position {done.position}, not {head}")
    return done.seconds


def filter_values(dsn: str, head: int) -> dict[str, str]:
    """Values to filter on, from the middle of the log: a user's id, an event type, an actor."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT aggregate_id FROM audit_log WHERE position >= %s "
            "AND event_type = 'UserCredits.Created' ORDER BY position LIMIT 1",
            (head // 2,),
        ).fetchone()
    if row is None:
        raise RuntimeError("the log has no UserCredits.Created event past its middle")
    return {"aggregate_id": str(row[0]), "event_type": "Job.Created", "actor": ADMIN}


def subjects(values: dict[str, str], head: int) -> dict[str, tuple[str, Callable[..., Any]]]:
    """Each measured request: which clients send it (JSON or page clients), and its check."""
    queries = {
        "first page": "",
        "actor": f"?actor={quote(values['actor'])}",
        "aggregate id": f"?aggregate_id={values['aggregate_id']}",
        "event type": f"?event_type={values['event_type']}",
    }
    found = {HEALTH: ("api", getter(lambda n: "/health", lambda r: r.json()["status"] == "ok"))}
    for label, query in queries.items():
        least = 1 if label == "aggregate id" else PAGE_SIZE  # one user has a handful of events
        found[f"GET /api/admin/events {label}"] = (
            "api",
            getter(_fixed(f"/api/admin/events{query}"), _events_at_least(least)),
        )
        found[f"GET /admin/audit {label}"] = (
            "page",
            getter(_fixed(f"/admin/audit{query}"), _rows_at_least(least)),
        )
    found["GET /api/admin/events cursor at the middle"] = (
        "api",
        getter(lambda n: f"/api/admin/events?cursor={head // 2}", _events_at_least(PAGE_SIZE)),
    )
    return found


def _events_at_least(count: int) -> Callable[[httpx.Response], bool]:
    return lambda response: len(response.json()["events"]) >= count


def _fixed(path: str) -> Callable[[int], str]:
    """The same path for every request."""
    return lambda n: path


def _rows_at_least(count: int) -> Callable[[httpx.Response], bool]:
    return lambda response: response.text.count('<details class="event"') >= count


def signed_in_clients(url: str, count: int) -> dict[str, list[httpx.Client]]:
    """JSON clients with an admin bearer token and page clients with a session cookie."""
    token = bench_tokens().issue("bench", "admin", ttl=86400)
    api = http_clients(url, count)
    for client in api:
        client.headers["Authorization"] = f"Bearer {token}"
    pages = http_clients(url, count)
    for client in pages:
        signed = client.post("/admin/login", data={"token": token, "next": "/admin/audit"})
        if signed.status_code != 303 or "chronicle_admin" not in client.cookies:
            raise RuntimeError(f"sign-in failed: {signed.status_code} {signed.text[:200]}")
    return {"api": api, "page": pages}


def measure_pages(
    url: str,
    found: dict[str, tuple[str, Callable[..., Any]]],
    clients: int,
    seconds: float,
    repeats: int,
) -> dict[str, list[Run]]:
    """Every subject ``repeats`` times, interleaved so that drift hits all of them alike."""
    by_kind = signed_in_clients(url, clients)
    runs: dict[str, list[Run]] = {}
    try:
        for repeat in range(1, repeats + 1):
            print(f"audit pages: repeat {repeat}/{repeats}", file=sys.stderr, flush=True)
            for name, (kind, client_of) in found.items():
                drive([client_of(c) for c in by_kind[kind]], 0.3)  # warm: connections, caches
                run = drive([client_of(c) for c in by_kind[kind]], seconds)
                runs.setdefault(name, []).append(run)
                print(
                    f"  {name:<48} p50 {run.percentile_ms(0.5):7.1f} ms",
                    file=sys.stderr,
                    flush=True,
                )
    finally:
        for client in (c for group in by_kind.values() for c in group):
            client.close()
    return runs
