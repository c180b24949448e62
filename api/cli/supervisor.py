"""The API from several processes on one port (``--workers N``) under uvicorn's supervisor.

Each child is a whole API process: it builds its own services from the environment (its own
command executor, pools and log watcher) on the parent's database. The parent puts its DSN in
``CHRONICLE_DATABASE_URL`` before the children start, so no child starts an embedded server of
its own, and the parent stops that server once, after every child has exited.

Two processes may hold the same aggregate: the unique ``(originator_id, originator_version)``
key lets one save win, and the other process reloads and decides again (bounded retries), so
credits and counts stay exact; a load balancer that routes by user or job id avoids the retries.
"""

from __future__ import annotations

import os
import signal
import socket
from typing import TypedDict

import uvicorn
from uvicorn.supervisors import Multiprocess

APP_FACTORY = "api.app:create_app"
"""Called with no arguments in each child: services built from settings, no projectors."""


class _ServerOptions(TypedDict):
    log_level: str
    proxy_headers: bool


SERVER_OPTIONS: _ServerOptions = {"log_level": "info", "proxy_headers": False}
"""uvicorn's options wherever Chronicle serves. Its own proxy headers stay off: by default it
believes ``X-Forwarded-For`` from 127.0.0.1 and rewrites the client's address before any
middleware runs, so any client on the host, or behind a proxy there, could name its own address
to the rate limiter. The limiter reads the header itself, from trusted proxies only
(``CHRONICLE_TRUSTED_PROXIES``, ``api/ratelimit.py``)."""


class _Supervisor(Multiprocess):
    """uvicorn's supervisor (restarts a child that dies), remembering which signal stopped it."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        self.stopped_by: int | None = None

    def handle_int(self) -> None:
        self.stopped_by = signal.SIGINT
        super().handle_int()

    def handle_term(self) -> None:
        self.stopped_by = signal.SIGTERM
        super().handle_term()


def serve_workers(
    dsn: str,
    *,
    host: str,
    port: int,
    workers: int,
    factory: str = APP_FACTORY,
    grace_seconds: int = 10,
) -> int | None:
    """Serve from ``workers`` child processes until SIGTERM or SIGINT; return that signal.

    On the signal every child is sent SIGTERM (it finishes its requests in flight and closes
    its services) and waited for. None means the supervisor stopped without a signal: a child
    failed to start (uvicorn then stops the others).
    """
    os.environ["CHRONICLE_DATABASE_URL"] = dsn
    config = uvicorn.Config(
        factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **SERVER_OPTIONS,
        timeout_graceful_shutdown=grace_seconds,  # a client that reads nothing cannot hold it
    )
    sock = config.bind_socket()
    try:
        # From here SIGINT and SIGTERM only set a flag the supervisor polls: a second signal
        # cannot cut short the children's stop nor, after it, the embedded database's.
        supervisor = _Supervisor(config, sockets=[sock])
        supervisor.run()
    finally:
        sock.close()
    return supervisor.stopped_by
