"""Serve the API over real HTTP on services a test builds itself (other settings, databases)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from api.app import create_app
from tests.conftest import wait_until


@dataclass
class Served:
    """A running server: its base URL, and how many requests it is handling now."""

    url: str
    server: uvicorn.Server

    @property
    def requests_in_flight(self) -> int:
        return len(self.server.server_state.tasks)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve(built: object) -> Iterator[Served]:
    """The API on ``built`` services, served by uvicorn in a thread on a free port."""
    port = free_port()
    config = uvicorn.Config(create_app(built), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, timeout=30, what="uvicorn to start")
        yield Served(f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
