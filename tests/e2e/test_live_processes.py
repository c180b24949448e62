"""Live streams behind `api --workers 2`: every process's streams see the log's sequence, and a
stop signal ends 50 open streams at once rather than after the graceful timeout, and a stream
whose client reads nothing too."""

import signal
import socket
import threading
import time
import uuid

import httpx
import pytest

from domain.commands.usercredits import GrantCredits, OpenAccount
from tests.conftest import wait_until
from tests.e2e.sse import Message, messages
from tests.e2e.twoprocesses import two_api_processes

STREAM = "/api/admin/events/stream"
GRACE = 60  # seconds uvicorn would wait for open streams


@pytest.fixture
def pair(clean_dsn, running, tmp_path):
    """Two API processes; ``running`` runs the projectors beside them."""
    env = {"CHRONICLE_SHUTDOWN_GRACE_SECONDS": str(GRACE), "CHRONICLE_LIVE_HEARTBEAT_SECONDS": "1"}
    with two_api_processes(clean_dsn, tmp_path, env) as served:
        yield served


def _open_streams(pair, admin: dict, count: int, params: dict) -> list[list[Message]]:
    """``count`` streams (a client each), read in threads until their end; what each received."""
    received: list[list[Message]] = [[] for _ in range(count)]

    def read(n: int) -> None:
        with httpx.Client(base_url=pair.url, timeout=120) as http:
            with http.stream("GET", STREAM, headers=admin, params=params) as stream:
                try:
                    received[n].extend(messages(stream.iter_lines()))
                except httpx.RemoteProtocolError:
                    received[n].append(Message(comments=["cut"]))

    for n in range(count):
        threading.Thread(target=read, args=(n,), daemon=True).start()
    wait_until(lambda: sum(pair.serving().values()) >= count, 60, f"{count} open streams")
    return received


def test_streams_on_both_processes_see_the_same_sequence(pair, running):
    admin = {"Authorization": "Bearer " + running.tokens.issue("ann", "admin")}
    user_id = uuid.uuid4()
    start = running.executor.execute(OpenAccount(user_id, "free", 0)).position
    received = _open_streams(pair, admin, 8, {"aggregate_id": str(user_id), "after": start})
    assert all(count > 0 for count in pair.serving().values()), pair.serving()  # both serve

    last = 0
    for n in range(30):
        last = running.executor.execute(GrantCredits(user_id, 1, f"grant {n}")).position
    wait_until(lambda: all(any(m.id == str(last) for m in r) for r in received), 60, "every stream")

    sequences = [[m.position for m in r if m.id] for r in received]
    assert len(sequences[0]) == 30
    assert all(sequence == sequences[0] for sequence in sequences)


def test_a_stop_signal_ends_fifty_open_streams_at_once(pair, running):
    admin = {"Authorization": "Bearer " + running.tokens.issue("ann", "admin")}
    received = _open_streams(pair, admin, 50, {})

    started = time.monotonic()
    pair.process.send_signal(signal.SIGTERM)
    pair.process.wait(timeout=GRACE)
    stopped_in = time.monotonic() - started

    assert stopped_in < GRACE / 2, f"the stop waited {stopped_in:.1f}s for the streams"
    goodbyes = [
        r for r in received if any("server is stopping" in c for m in r for c in m.comments)
    ]
    assert len(goodbyes) == 50
    assert "timeout graceful shutdown exceeded" not in pair.log.read_text()


def _unsent(port: int) -> int:
    """Bytes the server's sockets on ``port`` have sent and not had acknowledged (its Send-Q)."""
    total = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[1].split(":")[1], 16) == port:  # local address: the server's end
                    total += int(fields[4].split(":")[0], 16)
    return total


def test_a_stop_signal_ends_a_stream_whose_client_stopped_reading(pair, running):
    admin = {"Authorization": "Bearer " + running.tokens.issue("ann", "admin")}
    user_id = uuid.uuid4()
    start = running.executor.execute(OpenAccount(user_id, "free", 0)).position
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connecting: the window
    raw.connect(("127.0.0.1", pair.port))
    request = f"GET {STREAM}?after={start} HTTP/1.1\r\nHost: chronicle\r\n"
    raw.sendall((request + f"Authorization: {admin['Authorization']}\r\n\r\n").encode())
    assert raw.recv(4096).startswith(b"HTTP/1.1 200")  # then it reads nothing more
    try:
        # Fewer events than a stream's queue holds (1,000): the stream is not cut for its
        # slowness, its write waits on a client that reads nothing.
        for n in range(600):
            running.executor.execute(GrantCredits(user_id, 1, f"unread {n}"))
        wait_until(lambda: _unsent(pair.port) > 0, 60, "the server's write to wait on the client")

        started = time.monotonic()
        pair.process.send_signal(signal.SIGTERM)
        pair.process.wait(timeout=GRACE + 30)
        stopped_in = time.monotonic() - started
    finally:
        raw.close()

    assert stopped_in < GRACE / 2, f"the stop waited {stopped_in:.1f}s for the unread stream"
    assert "timeout graceful shutdown exceeded" not in pair.log.read_text()
