"""The audit log live (`GET /api/admin/events/stream`): resumes lose and repeat nothing, a slow
client is cut and resumes, filters keep what the list keeps, a stop ends a catch-up and a
stream opened as the process stops."""

import random
import socket
import threading
import uuid

import httpx
import psycopg

from api.streams import HISTORY_PAGE
from domain.commands.usercredits import GrantCredits, OpenAccount
from tests.conftest import wait_until
from tests.e2e.sse import Message, events, messages

STREAM = "/api/admin/events/stream"


def _positions(dsn: str, after: int, **where: str) -> list[int]:
    condition = "".join(f" AND {column} = %s" for column in where)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            f"SELECT position FROM audit_log WHERE position > %s{condition} ORDER BY position",
            (after, *where.values()),
        ).fetchall()
    return [row[0] for row in rows]


def _grants(executor, user_id: uuid.UUID, count: int) -> int:
    """``count`` grants to ``user_id``; the position of the last."""
    outcome = None
    for n in range(count):
        outcome = executor.execute(GrantCredits(user_id, 1, f"burst {n}"))
    assert outcome is not None
    return outcome.position


def _account(executor) -> tuple[uuid.UUID, int]:
    user_id = uuid.uuid4()
    return user_id, executor.execute(OpenAccount(user_id, "free", 0)).position


def test_reconnecting_during_a_burst_of_commits_loses_and_repeats_nothing(http, admin, live_server):
    executor = live_server.services.executor
    user_id, start = _account(executor)
    burst: list[int] = []
    writers = [
        threading.Thread(target=lambda: burst.append(_grants(executor, user_id, 100)))
        for _ in range(3)
    ]
    for writer in writers:
        writer.start()

    received: list[Message] = []
    after = start
    chance = random.Random(7)
    while any(w.is_alive() for w in writers) or not burst or after < max(burst):
        with http.stream("GET", STREAM, headers={**admin, "Last-Event-ID": str(after)}) as stream:
            for message in events(stream):  # a few, then drop the connection
                received.append(message)
                after = message.position
                if chance.random() < 0.1 or (burst and after >= max(burst)):
                    break

    expected = _positions(live_server.services.dsn, start)
    got = [m.position for m in received]
    assert got[: len(expected)] == expected  # nothing missed, nothing twice, in log order
    assert sum(1 for m in received if m.event == "UserCredits.Granted") >= 300


def test_a_filtered_stream_keeps_what_the_list_keeps(http, admin, live_server):
    executor = live_server.services.executor
    ours, start = _account(executor)
    other, _ = _account(executor)
    _grants(executor, other, 3)
    last = _grants(executor, ours, 3)

    received = []
    params = {"aggregate_id": str(ours), "event_type": "UserCredits.Granted", "after": start}
    with http.stream("GET", STREAM, headers=admin, params=params) as stream:
        for message in events(stream):
            received.append(message)
            if message.position == last:
                break

    dsn = live_server.services.dsn
    where = {"aggregate_id": str(ours), "event_type": "UserCredits.Granted"}
    assert [m.position for m in received] == _positions(dsn, start, **where)
    assert all(m.data["aggregate_id"] == str(ours) for m in received)
    assert [m.data["data"]["reason"] for m in received] == ["burst 0", "burst 1", "burst 2"]


def test_without_a_position_the_stream_starts_at_the_head(http, admin, live_server):
    executor = live_server.services.executor
    user_id, _ = _account(executor)
    with http.stream("GET", STREAM, headers=admin, params={"aggregate_id": str(user_id)}) as s:
        wait_until(lambda: live_server.services.streams.tail.subscribers == 1, 30, "subscribed")
        last = _grants(executor, user_id, 1)
        first = next(events(s))

    assert first.position == last
    assert first.event == "UserCredits.Granted"


def test_a_stream_is_for_admins_only(http, live_server):
    user = http.post("/auth/anon").raise_for_status().json()

    response = http.get(STREAM, headers={"Authorization": f"Bearer {user['token']}"})

    assert response.status_code == 403


def test_a_bad_filter_is_a_422_before_the_stream_starts(http, admin):
    response = http.get(STREAM, headers=admin, params={"aggregate_id": "not-a-uuid"})

    assert response.status_code == 422
    assert "aggregate_id" in response.text


def test_a_client_that_stops_reading_is_disconnected_and_resumes(small_buffers_server):
    url, built = small_buffers_server
    admin = {"Authorization": "Bearer " + built.tokens.issue("ann", "admin")}
    user_id, start = _account(built.executor)
    small = httpx.HTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
    received: list[Message] = []
    with httpx.Client(base_url=url, transport=small, timeout=60) as slow:
        with slow.stream("GET", STREAM, headers=admin, params={"after": start}) as stream:
            wait_until(lambda: built.streams.tail.subscribers == 1, 30, "the stream to start")
            last = _grants(built.executor, user_id, 400)  # while the client reads nothing
            wait_until(lambda: built.streams.tail.subscribers == 0, 60, "the slow client's cut")
            try:
                received.extend(events(stream))  # what the buffers held, then the end
            except httpx.RemoteProtocolError:
                pass  # cut mid-stream: the chunked body has no end

    assert received and received[-1].position < last
    with httpx.Client(base_url=url, timeout=60) as http:
        resume = {**admin, "Last-Event-ID": received[-1].id}
        with http.stream("GET", STREAM, headers=resume) as stream:
            for message in events(stream):
                received.append(message)
                if message.position == last:
                    break

    assert [m.position for m in received] == _positions(built.dsn, start)


def _goodbye(message: Message) -> str:
    return " ".join(c for c in message.comments if "resume after id" in c)


def test_a_stream_opened_while_the_process_stops_ends_at_once(http, admin, live_server):
    # The server answers requests for a moment after the stop signal closed the open streams.
    live_server.services.streams.close()
    user_id, start = _account(live_server.services.executor)

    with http.stream("GET", STREAM, headers=admin, params={"after": start}) as stream:
        received = messages(stream.iter_lines())
        first = next(received)
        # Checked before reading on: an open stream would send heartbeats forever.
        assert _goodbye(first) == f"the server is stopping: resume after id {start}"
        rest = list(received)

    assert rest == []  # and the stream ended


def test_a_stop_ends_a_catch_up_after_the_page_it_reads(http, admin, live_server):
    executor = live_server.services.executor
    user_id, start = _account(executor)
    last = _grants(executor, user_id, 4 * HISTORY_PAGE)
    dsn = live_server.services.dsn
    wait_until(lambda: _positions(dsn, last - 1)[-1:] == [last], 60, "the audit log")

    with http.stream("GET", STREAM, headers=admin, params={"after": start}) as stream:
        received = messages(stream.iter_lines())
        rows = [next(received)]  # the catch-up is under way, from the read model
        live_server.services.streams.close()
        goodbye = Message()
        for message in received:
            if message.id is None:
                goodbye = message
                break
            rows.append(message)
            if message.position == last:
                break  # the whole backlog: the stop did not end the catch-up

    assert rows[-1].position < last  # the pages it had read, not the backlog
    assert [m.position for m in rows] == _positions(dsn, start)[: len(rows)]
    assert _goodbye(goodbye) == f"the server is stopping: resume after id {rows[-1].id}"
