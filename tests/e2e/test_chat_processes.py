"""A room behind `api --workers 2`: ten clients spread over both processes post 500 messages,
and every client sees the same sequence, equal to the log."""

import json
import threading
from contextlib import ExitStack

import httpx
import psycopg
import pytest

from tests.assistantserver import Answer, assistant_server
from tests.conftest import wait_until
from tests.e2e.chat import frame, room_socket, until, until_reply
from tests.e2e.twoprocesses import two_api_processes

CLIENTS, POSTS = 10, 50


@pytest.fixture
def fake(settings):
    """The assistant's API, for the reactor that runs in this process (``running``)."""
    with assistant_server(models=("small",)) as server:
        settings.assistant_base_url, settings.assistant_model = server.base_url, "small"
        yield server


@pytest.fixture
def pair(clean_dsn, running, tmp_path):
    with two_api_processes(clean_dsn, tmp_path) as served:
        yield served


def _client(url, room_id, token, name, events: list, start: list, go, posts=POSTS):
    with room_socket(url, room_id, token) as socket:
        start.append(until(socket, "history")["position"])
        go.wait()
        acked = 0
        for n in range(posts):
            socket.send(
                json.dumps({"type": "post", "client_id": f"{name}-{n}", "text": f"{name} {n}"})
            )
            while True:  # the events before the ack are the room's too
                received = frame(socket, 60)
                if received["type"] == "event":
                    events.append(received)
                elif received["type"] == "ack":
                    acked += 1
                    break
                else:
                    raise AssertionError(received)
        while sum(e["event_type"] == "ChatRoom.Posted" for e in events) < CLIENTS * POSTS:
            events.append(until(socket, "event", 60))
        assert acked == posts


def test_ten_clients_on_two_processes_see_the_same_sequence_as_the_log(pair, running, clean_dsn):
    with httpx.Client(base_url=pair.url, timeout=60) as http:
        users = [http.post("/auth/anon").raise_for_status().json() for _ in range(CLIENTS)]
        auth = [{"Authorization": f"Bearer {u['token']}"} for u in users]
        room = (
            http.post(
                "/chat/rooms", headers=auth[0], json={"name": "Busy", "posts_per_window": 200}
            )
            .raise_for_status()
            .json()
        )
        for headers in auth[1:]:
            http.post(f"/chat/rooms/{room['room_id']}/join", headers=headers).raise_for_status()

    events = [[] for _ in range(CLIENTS)]
    starts: list[int] = []
    go = threading.Event()
    threads = [
        threading.Thread(
            target=_client,
            args=(pair.url, room["room_id"], users[n]["token"], f"u{n}", events[n], starts, go),
        )
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(starts) == CLIENTS, 60, "every client's history")

    def both_serve() -> bool:  # else one more reader, until the other process holds one
        if all(count > 0 for count in pair.serving().values()):
            return True
        events.append([])
        reader = (pair.url, room["room_id"], users[0]["token"], "r", events[-1], starts, go, 0)
        threads.append(threading.Thread(target=_client, args=reader))
        threads[-1].start()
        wait_until(lambda: len(starts) == len(threads), 60, "the reader's history")
        return False

    wait_until(both_serve, 60, "connections on both API processes")
    go.set()
    for thread in threads:
        thread.join(timeout=180)

    assert not any(t.is_alive() for t in threads)
    with psycopg.connect(clean_dsn) as conn:
        logged = [
            row[0]
            for row in conn.execute(
                "SELECT position FROM audit_log WHERE aggregate_id = %s "
                "AND event_type = 'ChatRoom.Posted' ORDER BY position",
                (room["room_id"],),
            )
        ]
    assert len(logged) == CLIENTS * POSTS
    for received in events:
        assert [e["position"] for e in received if e["event_type"] == "ChatRoom.Posted"] == logged


def test_the_assistants_words_reach_a_socket_on_each_process(fake, pair, running):
    fake.then(Answer(tokens=("Hello", " from", " every", " process."), token_delay=0.05))
    with httpx.Client(base_url=pair.url, timeout=60) as http:  # closed before the sockets count
        user = http.post("/auth/anon").raise_for_status().json()
        auth = {"Authorization": f"Bearer {user['token']}"}
        room = http.post("/chat/rooms", headers=auth, json={"name": "Both"}).raise_for_status()
        room_id = room.json()["room_id"]

    with ExitStack() as stack:
        sockets = []

        def on_both() -> bool:  # one more socket, until each process holds one
            if sockets and all(count > 0 for count in pair.serving().values()):
                return True
            sockets.append(stack.enter_context(room_socket(pair.url, room_id, user["token"])))
            until(sockets[-1], "history")
            return False

        wait_until(on_both, 60, "a socket on each API process")
        sockets[0].send(json.dumps({"type": "post", "client_id": "q", "text": "@assistant hi"}))
        received = [until_reply(socket) for socket in sockets]

    for partials, reply in received:
        assert "".join(p["text"] for p in partials) == "Hello from every process."
        assert reply["data"]["text"] == "Hello from every process."
    assert len({reply["position"] for _, reply in received}) == 1
