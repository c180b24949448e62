"""A room behind `api --workers 2`: ten clients spread over both processes post 500 messages,
and every client sees the same sequence, equal to the log."""

import json
import threading

import httpx
import psycopg
import pytest

from tests.conftest import wait_until
from tests.e2e.chat import frame, room_socket, until
from tests.e2e.twoprocesses import two_api_processes

CLIENTS, POSTS = 10, 50


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
