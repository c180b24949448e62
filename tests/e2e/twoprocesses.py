"""`chronicle api --workers 2` in a child process, and HTTP clients spread over its processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from tests.conftest import TEST_SECRET, wait_until
from tests.e2e.serving import free_port


@dataclass
class TwoProcesses:
    """The supervisor of two API processes, its URL and port, and the log it writes."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def children(self) -> list[psutil.Process]:
        """The API processes (multiprocessing's resource tracker left out)."""
        return [c for c in psutil.Process(self.process.pid).children() if _spawned(c)]

    def serving(self) -> dict[int, int]:
        """Each API process's count of client connections open on the port now."""
        counts = {}
        for child in self.children():
            established = [
                c
                for c in child.net_connections("tcp")
                if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == self.port
            ]
            counts[child.pid] = len(established)
        return counts


def _spawned(process: psutil.Process) -> bool:
    """An API process (started by multiprocessing's spawn), not a short-lived helper."""
    try:
        return "spawn_main" in " ".join(process.cmdline())
    except psutil.Error:  # gone, or a zombie not reaped yet
        return False


@contextmanager
def two_api_processes(
    dsn: str, data_dir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[TwoProcesses]:
    """``python -m api.cli api --workers 2`` on ``dsn`` and a free port, stopped on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "CHRONICLE_DATABASE_URL": dsn,
        "CHRONICLE_JWT_SECRET": TEST_SECRET,
        "CHRONICLE_DATA_DIR": str(data_dir),
        "CHRONICLE_HOST": "127.0.0.1",
        "CHRONICLE_PORT": str(port),
        "CHRONICLE_PUBLIC_BASE_URL": url,
        "CHRONICLE_THREADS": "6",  # two processes' pools stay well inside max_connections
        "CHRONICLE_READ_WAIT_SECONDS": "10",
        "CHRONICLE_DATABASE_WAIT_SECONDS": "30",  # a loaded machine is slow to connect
        # These tests are about exact counts; a command starved by 20 lost version checks in
        # a row (a 409 the client may retry; bench/README.md saw one in thousands) is not.
        "CHRONICLE_COMMAND_MAX_ATTEMPTS": "200",
        **(extra_env or {}),
    }
    log = data_dir / "api.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "api", "--workers", "2"],
            env=env,
            stdout=out,
            stderr=out,
        )
    served = TwoProcesses(url, port, process, log)
    try:
        wait_until(lambda: _both_ready(served), timeout=120, what="two API processes")
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def _both_ready(served: TwoProcesses) -> bool:
    assert served.process.poll() is None, served.log.read_text()[-3000:]
    return served.log.read_text().count("Application startup complete") >= 2


def spread_clients(served: TwoProcesses, at_least: int) -> list[httpx.Client]:
    """At least ``at_least`` keep-alive clients, connected to both API processes between them.

    The kernel hands each new connection to whichever process accepts first, so clients are
    opened until both processes hold one.
    """
    clients: list[httpx.Client] = []

    def spread() -> bool:
        client = httpx.Client(base_url=served.url, timeout=60)
        client.get("/health").raise_for_status()
        clients.append(client)
        holding = [pid for pid, n in served.serving().items() if n]
        return len(clients) >= at_least and len(holding) == 2

    wait_until(spread, timeout=60, what="connections to both API processes")
    return clients


def hammer(clients: list[httpx.Client], call: Callable[[httpx.Client, int], Any]) -> list[Any]:
    """Run ``call(client, i)`` for every client at once, each in its own thread; their results."""
    results: list[Any] = [None] * len(clients)
    start = threading.Barrier(len(clients))

    def run(i: int) -> None:
        start.wait()
        results[i] = call(clients[i], i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
