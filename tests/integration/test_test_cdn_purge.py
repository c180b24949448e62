"""CDN purge over real HTTP (a local server standing in for Cloudflare's purge_cache): the URLs
and token it receives, an outage retried until it answers, a refusal parked; and the adapter's
error mapping on its own."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import SecretStr

from adapters.cache import InMemoryCache
from adapters.cdn import CdnPurgeFailed, HttpCdnPurger
from domain.errors import Unavailable
from projections.testcatalog.purge import TestCachePurge
from tests.integration.flaky import letters
from tests.integration.sitereactors import ATTEMPTS, Site, published

NAME = "test_cache_purge"
BASE = "https://tests.example.com"
TOKEN = "cdn-token-of-the-test"


class CdnServer:
    """A purge endpoint on a free local port: records each request, answers ``statuses`` in
    turn (the last one from then on)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses) or [200]
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = server.answer(self.path, dict(self.headers), body)
                payload = json.dumps({"success": status < 300}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/zones/z1/purge_cache"

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "json": json.loads(body)})
            return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


@pytest.fixture
def cdn() -> Iterator[CdnServer]:
    server = CdnServer()
    yield server
    server.close()


def purging_site(dsn: str, app: Any, cdn: CdnServer) -> Site:
    purger = HttpCdnPurger(cdn.url, TOKEN, timeout_seconds=2)
    return Site(
        dsn,
        app,
        lambda watcher: [TestCachePurge(InMemoryCache(), watcher, cdn=purger, base_url=BASE)],
    )


def test_a_purge_posts_the_public_urls_of_the_test_with_the_token(executor, clean_dsn, app, cdn):
    site = purging_site(clean_dsn, app, cdn)
    try:
        test_id, position = published(executor, title="여행 성향 테스트")
        site.wait([NAME], position)
    finally:
        site.stop()

    urls = [f"{BASE}/api/tests/{test_id}", f"{BASE}/api/tests"]
    assert [r["json"] for r in cdn.requests] == [{"files": urls}] * 2  # created, published
    assert {r["path"] for r in cdn.requests} == {"/zones/z1/purge_cache"}
    assert {r["headers"]["Authorization"] for r in cdn.requests} == {f"Bearer {TOKEN}"}


def test_a_cdn_that_answers_500_is_retried_until_it_purges(executor, clean_dsn, app, cdn):
    cdn.statuses = [500, 503, 200]
    site = purging_site(clean_dsn, app, cdn)
    try:
        test_id, position = published(executor, title="여행 성향 테스트")
        site.wait([NAME], position)
    finally:
        site.stop()

    # Created failed twice and was purged the third time; then Published, at once.
    assert len(cdn.requests) == 4
    assert {r["json"]["files"][0] for r in cdn.requests} == {f"{BASE}/api/tests/{test_id}"}
    assert letters(clean_dsn, NAME) == []


def test_a_cdn_that_refuses_the_purge_parks_the_event(executor, clean_dsn, app, cdn):
    cdn.statuses = [400]
    site = purging_site(clean_dsn, app, cdn)
    try:
        test_id, position = published(executor, title="여행 성향 테스트")
        site.wait([NAME], position)
    finally:
        site.stop()

    parked, waiting = letters(clean_dsn, NAME)
    assert (parked["aggregate_id"], parked["aggregate_version"]) == (test_id, 1)
    assert (parked["state"], parked["attempts"]) == ("parked", ATTEMPTS)
    assert "CdnPurgeFailed" in parked["error"] and "400" in parked["error"]
    assert (waiting["aggregate_version"], waiting["state"]) == (2, "waiting")
    assert len(cdn.requests) == ATTEMPTS


@pytest.mark.parametrize("status", [429, 500, 502])
def test_the_adapter_reports_a_busy_or_failing_endpoint_as_unavailable(status):
    server = CdnServer(status)
    try:
        with pytest.raises(Unavailable, match=str(status)):
            HttpCdnPurger(server.url).purge([f"{BASE}/api/tests"])
    finally:
        server.close()


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_the_adapter_reports_a_refusal_naming_its_status(status):
    server = CdnServer(status)
    try:
        with pytest.raises(CdnPurgeFailed, match=str(status)):
            HttpCdnPurger(server.url, TOKEN).purge([f"{BASE}/api/tests"])
    finally:
        server.close()


def test_the_adapter_reports_an_unreachable_endpoint_as_unavailable():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(Unavailable) as caught:
        HttpCdnPurger(f"http://127.0.0.1:{port}/purge?key=secret").purge([f"{BASE}/api/tests"])

    assert f"http://127.0.0.1:{port}/purge failed" in caught.value.message
    assert "secret" not in str(caught.value)  # a query string may carry credentials


def test_the_adapter_sends_no_authorization_without_a_token(cdn):
    HttpCdnPurger(cdn.url).purge([f"{BASE}/api/tests"])

    assert "Authorization" not in cdn.requests[0]["headers"]
    assert cdn.requests[0]["json"] == {"files": [f"{BASE}/api/tests"]}


@pytest.fixture
def settings(settings, cdn):
    """The CDN purge endpoint configured, as in production."""
    settings.cdn_purge_url = cdn.url
    settings.cdn_purge_token = SecretStr(TOKEN)
    settings.public_base_url = BASE
    return settings


def test_the_services_purge_the_configured_cdn_once_a_test_is_published(running, cdn):
    test_id, position = published(running.executor, title="여행 성향 테스트")

    assert running.watcher.wait_for_position([NAME], position, timeout=30)

    files = {"files": [f"{BASE}/api/tests/{test_id}", f"{BASE}/api/tests"]}
    assert [r["json"] for r in cdn.requests] == [files, files]
    assert cdn.requests[-1]["headers"]["Authorization"] == f"Bearer {TOKEN}"
