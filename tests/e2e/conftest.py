"""Fixtures of the HTTP tests served by uvicorn (``live_server``)."""

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.bootstrap import services
from tests.conftest import wait_until
from tests.e2e.auditsession import admin_token, sign_in
from tests.e2e.flows import bearer


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def admin(live_server):
    return bearer(live_server.services.tokens.issue("ann", "admin"))


@pytest.fixture
def worker(live_server):
    return bearer(live_server.services.tokens.issue("gpu-1", "worker"))


@pytest.fixture
def signed_in(http, live_server):
    """``http`` holding an admin session cookie."""
    assert sign_in(http, admin_token(live_server)).status_code == 303
    return http


@pytest.fixture
def small_buffers_server(clean_dsn, settings) -> Iterator[tuple[str, object]]:
    """The API with a queue of 5 events per stream, on a socket with small send buffers, so
    that a client that stops reading blocks the server's writes after a few events."""
    settings.live_queue_size = 5
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # inherited by each client
    listener.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    with services(settings, clean_dsn, run_projections=True) as built:
        config = uvicorn.Config(create_app(built), log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        wait_until(lambda: server.started, timeout=30, what="uvicorn to start")
        yield url, built
        server.should_exit = True
        thread.join(timeout=15)
    listener.close()
