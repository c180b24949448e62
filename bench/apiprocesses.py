"""The API processes under one supervisor: which clients each serves, and each one's conflicts.

Every API process keeps its own metrics, and the kernel hands a new connection to whichever
process accepts it first; so a scrape is sent on a raw socket whose local port tells, through
``psutil``, which process answered it.
"""

from __future__ import annotations

import re
import socket
import time

import httpx
import psutil

CONFLICTED = re.compile(rb'^chronicle_command_batches_total\{result="conflicted"\} (\S+)$', re.M)
COMMITTED = re.compile(rb'^chronicle_command_batches_total\{result="committed"\} (\S+)$', re.M)
SCRAPE_SECONDS = 30.0


def api_processes(supervisor_pid: int) -> list[psutil.Process]:
    """The API processes of ``supervisor_pid``, or the process itself when it serves alone."""
    spawned = [c for c in psutil.Process(supervisor_pid).children() if _spawned(c)]
    return spawned or [psutil.Process(supervisor_pid)]


def _spawned(process: psutil.Process) -> bool:
    """An API process (started by multiprocessing's spawn), not a short-lived helper."""
    try:
        return "spawn_main" in " ".join(process.cmdline())
    except psutil.Error:  # gone, or a zombie not reaped yet
        return False


def clients_per_process(supervisor_pid: int, port: int) -> list[int]:
    """How many client connections each API process holds on ``port`` now."""
    return sorted(
        sum(
            1
            for c in process.net_connections("tcp")
            if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
        )
        for process in api_processes(supervisor_pid)
    )


def spread_clients(url: str, supervisor_pid: int, port: int, count: int) -> list[httpx.Client]:
    """``count`` keep-alive clients, connected once every API process holds one of them.

    A process still starting accepts nothing, and the kernel gives each new connection to
    whichever process accepts first: clients are opened again until no process is left out.
    """
    deadline = time.monotonic() + SCRAPE_SECONDS
    while True:
        clients = [httpx.Client(base_url=url, timeout=30) for _ in range(count)]
        for client in clients:
            client.get("/health").raise_for_status()
        if 0 not in clients_per_process(supervisor_pid, port) or time.monotonic() > deadline:
            return clients
        for client in clients:
            client.close()
        time.sleep(0.5)


def transactions(supervisor_pid: int, port: int) -> tuple[int, int]:
    """Command transactions committed and conflicted so far, summed over every API process."""
    wanted = {p.pid for p in api_processes(supervisor_pid)}
    seen: dict[int, tuple[int, int]] = {}
    deadline = time.monotonic() + SCRAPE_SECONDS
    while wanted - seen.keys():
        if time.monotonic() > deadline:
            raise RuntimeError(f"no scrape reached processes {sorted(wanted - seen.keys())}")
        pid, body = _scrape(port, wanted)
        seen[pid] = (_value(COMMITTED, body), _value(CONFLICTED, body))
    return sum(c for c, _ in seen.values()), sum(k for _, k in seen.values())


def _scrape(port: int, pids: set[int]) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: bench\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(65536)
        head, _, body = reply.partition(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
        while len(body) < length:
            body += sock.recv(65536)
        local = sock.getsockname()[1]
        for pid in pids:  # the connection is still open: find the process at its other end
            for c in psutil.Process(pid).net_connections("tcp"):
                if c.raddr and c.raddr.port == local:
                    return pid, body
    raise RuntimeError(f"no API process holds the connection from port {local}")


def _value(pattern: re.Pattern[bytes], body: bytes) -> int:
    found = pattern.search(body)
    return int(float(found.group(1))) if found else 0
