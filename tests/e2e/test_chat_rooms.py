"""Chat rooms over REST and WebSocket: posts once per client id, history then live, resume
after a drop, bad frames answered, membership rules."""

import json
import os
import uuid

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.chat import frame, post, room_socket, until
from tests.e2e.flows import sign_up

ROOMS = "/chat/rooms"


@pytest.fixture
def owner(http):
    user_id, auth = sign_up(http)
    return user_id, auth, auth["Authorization"].split()[1]


@pytest.fixture
def room(http, owner):
    _, auth, _ = owner
    created = http.post(ROOMS, headers=auth, json={"name": "General"})
    assert created.status_code == 201, created.text
    return created.json()


def test_a_post_sent_again_with_its_client_id_is_posted_once(http, owner, room):
    _, auth, _ = owner
    path = f"{ROOMS}/{room['room_id']}/messages"
    first = http.post(path, headers=auth, json={"client_id": "c-1", "text": "hello"}).json()

    again = http.post(path, headers=auth, json={"client_id": "c-1", "text": "hello"})

    assert again.status_code == 201
    assert again.json()["message_id"] == first["message_id"]
    assert (again.json()["new"], again.json()["position"]) == (False, first["position"])
    page = http.get(path, headers=auth, params={"min_position": first["position"]}).json()
    assert [m["text"] for m in page["messages"]] == ["hello"]


def test_messages_page_newest_first_by_position(http, owner, room):
    _, auth, _ = owner
    path = f"{ROOMS}/{room['room_id']}/messages"
    last = None
    for n in range(5):
        last = http.post(path, headers=auth, json={"client_id": f"c-{n}", "text": f"m{n}"})
    position = last.json()["position"]

    first = http.get(path, headers=auth, params={"limit": 3, "min_position": position}).json()
    rest = http.get(path, headers=auth, params={"limit": 3, "before": first["next_before"]})

    texts = [m["text"] for m in first["messages"] + rest.json()["messages"]]
    assert texts == ["m4", "m3", "m2", "m1", "m0"]


def test_membership_rules_over_rest(http, owner, room):
    _, auth, _ = owner
    _, stranger = sign_up(http)
    path = f"{ROOMS}/{room['room_id']}/messages"

    refused = http.post(path, headers=stranger, json={"client_id": "s-1", "text": "hi"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "not_a_member")
    http.post(f"{ROOMS}/{room['room_id']}/join", headers=stranger).raise_for_status()
    mine = http.post(path, headers=stranger, json={"client_id": "s-1", "text": "hi"}).json()
    owners_edit = http.patch(f"{path}/{mine['message_id']}", headers=auth, json={"text": "x"})
    assert owners_edit.status_code == 403
    http.post(f"{ROOMS}/{room['room_id']}/close", headers=auth).raise_for_status()
    closed = http.post(path, headers=stranger, json={"client_id": "s-2", "text": "still?"})
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "illegal_transition")


def test_a_private_room_is_not_found_by_others(http, owner):
    _, auth, _ = owner
    private = http.post(ROOMS, headers=auth, json={"name": "Us", "private": True}).json()
    _, stranger = sign_up(http)

    response = http.get(
        f"{ROOMS}/{private['room_id']}",
        headers=stranger,
        params={"min_position": private["position"]},
    )

    assert response.status_code == 404


def test_an_invited_user_gets_into_a_private_room_and_a_made_up_one_is_not_found(http, owner):
    _, auth, _ = owner
    private = http.post(ROOMS, headers=auth, json={"name": "Us", "private": True}).json()
    guest_id, guest = sign_up(http)
    invite = f"{ROOMS}/{private['room_id']}/invite"

    nobody = http.post(invite, headers=auth, json={"user_id": str(uuid.uuid4())})
    invited = http.post(invite, headers=auth, json={"user_id": guest_id})

    assert (nobody.status_code, nobody.json()["error"]["code"]) == (404, "not_found")
    assert invited.status_code == 200 and invited.json()["members"] == 2
    seen = http.get(
        f"{ROOMS}/{private['room_id']}",
        headers=guest,
        params={"min_position": invited.json()["position"]},
    )
    assert seen.status_code == 200


def test_a_room_name_too_long_or_with_nul_is_a_422(http, owner):
    _, auth, _ = owner
    for name in ["x" * 65, "a\u0000b"]:
        assert http.post(ROOMS, headers=auth, json={"name": name}).status_code == 422


def test_a_socket_gets_the_history_then_every_post_and_acks_its_own(live_server, http, owner, room):
    _, auth, token = owner
    http.post(
        f"{ROOMS}/{room['room_id']}/messages", headers=auth, json={"client_id": "h", "text": "old"}
    ).raise_for_status()
    with room_socket(live_server.url, room["room_id"], token) as alice:
        history = until(alice, "history")
        assert [m["text"] for m in history["messages"]] == ["old"]

        ack = post(alice, "c-1", "new")
        event = until(alice, "event")

    assert ack["new"] and ack["client_id"] == "c-1"
    assert (event["position"], event["event_type"]) == (ack["position"], "ChatRoom.Posted")
    assert event["data"]["text"] == "new"


def test_a_resumed_socket_gets_what_it_missed_once(live_server, http, owner, room):
    _, auth, token = owner
    with room_socket(live_server.url, room["room_id"], token) as first:
        seen = until(first, "history")["position"]
    missed = [
        http.post(
            f"{ROOMS}/{room['room_id']}/messages",
            headers=auth,
            json={"client_id": f"m{n}", "text": f"{n}"},
        ).json()["position"]
        for n in range(5)
    ]

    with room_socket(live_server.url, room["room_id"], token, after=seen) as resumed:
        got = [until(resumed, "event")["position"] for _ in missed]
        resumed.send(json.dumps({"type": "ping"}))
        assert until(resumed, "pong") == {"type": "pong"}  # and nothing came twice before it

    assert got == missed


def test_bad_frames_get_an_error_and_the_socket_stays_open(live_server, owner, room):
    _, _, token = owner
    with room_socket(live_server.url, room["room_id"], token) as socket:
        until(socket, "history")
        for bad in ["not json", json.dumps({"type": "dance"}), json.dumps({"type": "post"}),
                    json.dumps({"type": "post", "client_id": "c", "text": "x" * 4001}),
                    "x" * 70_000, b"\x00\x01 binary"]:  # fmt: skip
            socket.send(bad)
            error = frame(socket)
            assert error["type"] == "error" and error["code"] in (
                "invalid_frame",
                "frame_too_large",
            )

        assert post(socket, "c-ok", "still here")["new"] is True


def closed_with(url: str, room_id: str, token: str) -> tuple[int, str]:
    with room_socket(url, room_id, token) as socket, pytest.raises(ConnectionClosed) as closed:
        frame(socket)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def test_a_refused_socket_is_closed_with_a_code_and_reason_it_can_read(
    http, live_server, owner, room
):
    _, stranger = sign_up(http)
    private = http.post(ROOMS, headers=stranger, json={"name": "Secret", "private": True})
    admin = live_server.services.tokens.issue("ann", "admin")
    url = live_server.url

    assert closed_with(url, room["room_id"], "forged")[0] == 4401
    assert closed_with(url, room["room_id"], "")[0] == 4401  # no token at all
    assert closed_with(url, room["room_id"], admin)[0] == 4403
    code, reason = closed_with(url, private.json()["room_id"], owner[2])  # not a member
    assert code == 4404 and reason


def test_a_socket_with_a_bad_query_is_closed_naming_it(live_server, owner, room):
    code, reason = closed_with(live_server.url, room["room_id"], f"{owner[2]}&after=-1")

    assert code == 1008 and "query.after" in reason


def test_a_socket_that_stops_reading_is_closed_and_resumes_by_position(small_buffers_server):
    import socket as sockets

    from domain.commands.chatroom import CreateRoom, PostMessage
    from tests.conftest import wait_until

    url, built = small_buffers_server
    owner = uuid.uuid4()
    token = built.tokens.issue(str(owner), "user")
    room_id = uuid.uuid4()
    built.executor.execute(CreateRoom(room_id, owner, "Busy", False, 200))
    raw = sockets.socket()
    raw.setsockopt(sockets.SOL_SOCKET, sockets.SO_RCVBUF, 4096)  # before connecting: the window
    host, port = url.removeprefix("http://").split(":")
    raw.connect((host, int(port)))
    ws_url = url.replace("http://", "ws://") + f"/chat/rooms/{room_id}?token={token}"
    received = []
    with connect(ws_url, sock=raw, open_timeout=30, max_queue=1) as slow:
        seen = until(slow, "history")["position"]
        wait_until(lambda: built.streams.tail.subscribers == 1, 30, "the socket's feed")
        last = 0
        for n in range(150):  # while the client reads nothing
            text = f"message {n} " + os.urandom(1500).hex()  # no compression shrinks it
            last = built.executor.execute(PostMessage(room_id, owner, f"c{n}", text)).position
        wait_until(lambda: built.streams.tail.subscribers == 0, 60, "the slow socket's cut")
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                received.append(until(slow, "event"))
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
    after = received[-1]["position"] if received else seen
    assert after < last

    with room_socket(url, str(room_id), token, after=after) as resumed:
        while not received or received[-1]["position"] < last:
            received.append(until(resumed, "event"))

    positions = [e["position"] for e in received]
    assert positions == sorted(set(positions)) and len(positions) == 150
