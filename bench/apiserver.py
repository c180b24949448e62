"""``chronicle api`` (or ``serve``) in a child process: the HTTP clients do not share its GIL.

``python -m bench.apiserver [api|serve] [workers]`` is ``chronicle api --workers N`` (uvicorn,
the command executor, no projectors; ``serve``: with them) with the bench plan registered in
every API process, so that a user may hold 10,000 open jobs and closed-loop ``POST /jobs``
clients never meet ``pro``'s limit of 20.
Settings come from the environment, as for ``chronicle api``; ``served`` sets them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from api.auth import TokenIssuer
from api.ratelimit import GROUPS
from api.settings import Settings

SECRET = "chronicle-bench-secret-of-at-least-32-bytes"
READY_SECONDS = 60.0


def bench_tokens() -> TokenIssuer:
    """Issues the tokens that a server started by ``served`` accepts (signed with ``SECRET``)."""
    return TokenIssuer(SECRET, Settings(jwt_secret=SecretStr(SECRET)))


@dataclass(frozen=True)
class Served:
    """A running API server: its base URL and its process id."""

    url: str
    pid: int


@contextmanager
def served(
    dsn: str,
    data_dir: Path,
    command: str = "api",
    workers: int = 1,
    threads: int | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """The API on ``dsn`` in a child process on a free local port, stopped on exit.

    ``command`` is ``api`` (the API alone) or ``serve`` (with the projectors and reactors);
    ``workers`` API processes serve the port (``pid`` is then their supervisor's); ``threads``
    is CHRONICLE_THREADS (request threads and pool size per process); ``env`` adds settings
    (no rate limit applies unless it sets one).
    """
    url = free_url()
    environ = api_environ(dsn, data_dir, url, threads, env)
    log_path = data_dir / "api-stderr.log"
    with open(log_path, "wb") as log:
        # stdout carries uvicorn's access log (one line per request, formatted as in
        # production); stderr carries errors and is shown if the server does not start.
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.apiserver", command, str(workers)],
            env=environ,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        wait_ready(url, process, log_path)
        yield Served(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_url() -> str:
    """The URL of a local port no one listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def api_environ(
    dsn: str, data_dir: Path, url: str, threads: int | None, env: dict[str, str] | None = None
) -> dict[str, str]:
    """This process's environment with the settings of an API serving ``url`` for a bench."""
    port = url.rpartition(":")[2]
    return {
        **os.environ,
        "CHRONICLE_DATABASE_URL": dsn,
        "CHRONICLE_JWT_SECRET": SECRET,
        "CHRONICLE_HOST": "127.0.0.1",
        "CHRONICLE_PORT": port,
        "CHRONICLE_DATA_DIR": str(data_dir),
        "CHRONICLE_PUBLIC_BASE_URL": url,
        # A load test is the trusted client the limits let raise them: no group is limited.
        **{f"CHRONICLE_RATE_LIMIT_{group.upper()}": "" for group in GROUPS},
        "CHRONICLE_QUOTA_JOBS_PER_DAY_FREE": "1000000000",  # nor a daily quota of jobs
        "CHRONICLE_QUOTA_JOBS_PER_DAY_PRO": "1000000000",
        **({"CHRONICLE_THREADS": str(threads)} if threads else {}),
        **(env or {}),
    }


def wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Return once ``GET /health`` answers 200; raise with the server's stderr if it never does."""
    deadline = time.monotonic() + READY_SECONDS
    with httpx.Client(base_url=url, timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                if client.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    tail = log_path.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"the API server did not start at {url}; its stderr ends with:\n{tail}")


def create_app() -> FastAPI:
    """The factory each API process of ``--workers`` calls: the API, with the bench plan known."""
    from api.app import create_app as create_api
    from bench.library import register_hot_plan

    register_hot_plan()
    return create_api()


def main() -> None:
    """Run ``chronicle api`` (or ``serve``) from the workers given, with the bench plan known."""
    import logging

    from api.cli.serving import serve_until_stopped
    from api.cli.settings import load_settings
    from bench.library import register_hot_plan

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    register_hot_plan()
    command = sys.argv[1] if len(sys.argv) > 1 else "api"
    settings = load_settings()
    sys.exit(
        serve_until_stopped(
            settings,
            host=settings.host,
            port=settings.port,
            workers=int(sys.argv[2]) if len(sys.argv) > 2 else 1,
            run_projections=command == "serve",
            factory="bench.apiserver:create_app",
        )
    )


if __name__ == "__main__":
    main()
