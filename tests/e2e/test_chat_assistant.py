"""The assistant in a room, over a real socket, answering from a local OpenAI-compatible server:
a mention streams partial frames, then the reply is recorded once; a broken stream is recorded
interrupted; no assistant, an unavailable one and a spent quota are said plainly."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from projections.chatassistant.reactor import NO_ASSISTANT
from tests.assistantserver import Answer, AssistantServer, assistant_server
from tests.e2e.chat import post, room_socket, until, until_reply
from tests.e2e.flows import sign_up
from tests.unit.uploads import PART, file_of, sha256_of

ROOMS = "/chat/rooms"


@pytest.fixture
def fake(settings: Any) -> Iterator[AssistantServer]:
    with assistant_server(models=("small",)) as server:
        settings.assistant_base_url = server.base_url
        settings.assistant_model = "small"
        settings.assistant_max_attempts = 1
        yield server


@pytest.fixture
def served(fake: AssistantServer, live_server: Any) -> Any:
    return live_server  # started after the fake: its reactor answers from it


@pytest.fixture
def one_turn_a_day(settings: Any) -> None:
    settings.quota_assistant_turns_per_day_free = 1


@pytest.fixture
def served_one_turn(one_turn_a_day: None, fake: AssistantServer, live_server: Any) -> Any:
    return live_server  # the quota is read at startup


def _room(http: Any) -> tuple[dict[str, str], str, dict[str, Any]]:
    _, auth = sign_up(http)
    room = http.post(ROOMS, headers=auth, json={"name": "Trips"})
    assert room.status_code == 201, room.text
    return auth, auth["Authorization"].split()[1], room.json()


def test_a_mention_streams_partial_frames_then_records_the_reply_once(served, fake, http):
    tokens = ("Go", " north", ", then", " east", " to the sea.")
    fake.then(Answer(tokens=tokens, token_delay=0.08))
    auth, token, room = _room(http)

    with room_socket(served.url, room["room_id"], token) as socket:
        until(socket, "history")
        post(socket, "plain", "no question for anyone here")
        asked = post(socket, "q-1", "@assistant where should I travel?")
        partials, reply = until_reply(socket)

    text = "".join(tokens)
    assert [p["seq"] for p in partials] == list(range(len(partials))) and len(partials) >= 2
    assert "".join(p["text"] for p in partials) == text
    assert {p["reply_to"] for p in partials} == {asked["message_id"]}
    assert {p["message_id"] for p in partials} == {reply["data"]["message_id"]}
    data = reply["data"]
    assert (data["text"], data["outcome"], data["notice"]) == (text, "complete", "")
    assert data["in_reply_to"] == asked["message_id"] and reply["position"] > asked["position"]

    sent = fake.requests[-1]["body"]["messages"]
    assert len(fake.requests) == 1  # the message without a mention asked nothing
    assert sent[0]["role"] == "system"
    assert sent[-1] == {"role": "user", "content": "@assistant where should I travel?"}

    page = http.get(f"{ROOMS}/{room['room_id']}/messages", headers=auth).json()["messages"]
    newest = page[0]
    assert (newest["user_id"], newest["reply_to"], newest["outcome"]) == (
        None,
        asked["message_id"],
        "complete",
    )
    assert newest["text"] == text and newest["position"] == reply["position"]
    usage = http.get("/me", headers=auth).json()["usage"]["assistant_turns"]
    assert usage["used"] == 1


def test_the_next_question_carries_the_previous_turns(served, fake, http):
    fake.then(Answer(tokens=("Busan.",)), Answer(tokens=("By train.",)))
    auth, token, room = _room(http)

    with room_socket(served.url, room["room_id"], token) as socket:
        until(socket, "history")
        post(socket, "q-1", "@assistant a city by the sea?")
        until_reply(socket)
        post(socket, "q-2", "@assistant how do I get there?")
        until_reply(socket)

    second = fake.requests[-1]["body"]["messages"]
    assert [(m["role"], m["content"]) for m in second[1:]] == [
        ("user", "@assistant a city by the sea?"),
        ("assistant", "Busan."),
        ("user", "@assistant how do I get there?"),
    ]


def test_a_stream_that_breaks_is_recorded_interrupted_with_what_came_before(served, fake, http):
    fake.then(Answer(tokens=("Try", " the", " mountains"), drop_after=2))
    _, token, room = _room(http)

    with room_socket(served.url, room["room_id"], token) as socket:
        until(socket, "history")
        post(socket, "q-1", "@assistant any idea?")
        partials, reply = until_reply(socket)

    data = reply["data"]
    assert (data["text"], data["outcome"]) == ("Try the", "interrupted")
    assert "interrupted" in data["notice"]
    assert "".join(p["text"] for p in partials) == "Try the"


def test_an_assistant_that_refuses_is_said_to_be_unavailable(served, fake, http):
    fake.then(Answer(status=401, error=("Incorrect API key", "invalid_request_error", "bad_key")))
    _, token, room = _room(http)

    with room_socket(served.url, room["room_id"], token) as socket:
        until(socket, "history")
        post(socket, "q-1", "@assistant hello?")
        partials, reply = until_reply(socket)

    assert partials == []
    assert (reply["data"]["text"], reply["data"]["outcome"]) == ("", "unavailable")
    assert reply["data"]["notice"].startswith("The assistant is unavailable")


def test_past_the_daily_quota_the_room_says_so_and_the_model_is_not_asked(
    served_one_turn, fake, http
):
    _, token, room = _room(http)

    with room_socket(served_one_turn.url, room["room_id"], token) as socket:
        until(socket, "history")
        post(socket, "q-1", "@assistant one")
        _, first = until_reply(socket)
        post(socket, "q-2", "@assistant two")
        _, second = until_reply(socket)

    assert first["data"]["outcome"] == "complete"
    assert (second["data"]["outcome"], second["data"]["text"]) == ("quota_exceeded", "")
    assert "1 assistant turns a day" in second["data"]["notice"]
    assert len(fake.requests) == 1


def test_without_an_assistant_the_room_says_there_is_none(live_server, http):
    _, token, room = _room(http)

    with room_socket(live_server.url, room["room_id"], token) as socket:
        until(socket, "history")
        post(socket, "q-1", "@assistant anyone there?")
        partials, reply = until_reply(socket)

    assert partials == []
    assert reply["data"]["outcome"] == "unavailable"
    assert reply["data"]["notice"] == NO_ASSISTANT


@pytest.fixture
def small_for_free(settings: Any) -> None:
    settings.assistant_models_free = ["small"]


@pytest.fixture
def served_with_models(small_for_free: None, fake: AssistantServer, live_server: Any) -> Any:
    return live_server


def test_a_members_settings_reach_the_model_with_the_next_question(served_with_models, fake, http):
    auth, token, room = _room(http)
    path = f"{ROOMS}/{room['room_id']}/assistant"

    changed = http.put(
        path, headers=auth, json={"language": "ko", "tone": "concise", "model": "small"}
    )
    refused = http.put(path, headers=auth, json={"language": "ko", "model": "huge"})
    bad_tone = http.put(path, headers=auth, json={"language": "ko", "tone": "rude"})
    _, stranger = sign_up(http)
    outsider = http.put(path, headers=stranger, json={"language": "en"})
    with room_socket(served_with_models.url, room["room_id"], token) as socket:
        until(socket, "history")
        post(socket, "q-1", "@assistant 안녕?")
        until_reply(socket)

    assert changed.status_code == 200, changed.text
    assert changed.json() | {"version": 0} == {
        "room_id": room["room_id"],
        "language": "ko",
        "tone": "concise",
        "model": "small",
        "summary": "",
        "turns_kept": 0,
        "available": True,
        "version": 0,
    }
    assert refused.status_code == 422 and "does not allow the model 'huge'" in refused.text
    assert bad_tone.status_code == 422 and "tone must be one of" in bad_tone.text
    assert outsider.status_code == 409 and outsider.json()["error"]["code"] == "not_a_member"
    body = fake.requests[-1]["body"]
    assert body["model"] == "small"
    assert "'ko'" in body["messages"][0]["content"] and "brief" in body["messages"][0]["content"]


def test_in_ones_own_assistant_room_every_message_is_answered(served, fake, http):
    fake.then(Answer(tokens=("Monday:", " rest.")))
    _, auth = sign_up(http)
    created = http.post(ROOMS, headers=auth, json={"name": "Me", "assistant": True})
    room = created.json()
    token = auth["Authorization"].split()[1]

    with room_socket(served.url, room["room_id"], token) as socket:
        until(socket, "history")
        post(socket, "q-1", "plan my week")
        _, reply = until_reply(socket)

    assert created.status_code == 201 and (room["assistant"], room["private"]) == (True, True)
    assert http.get(f"{ROOMS}/{room['room_id']}", headers=auth).json()["assistant"] is True
    assert reply["data"]["text"] == "Monday: rest."


def _uploaded(http: Any, auth: dict[str, str], data: bytes, content_type: str) -> str:
    """A completed upload session of ``data`` in one part: its id."""
    body = {"size": len(data), "content_type": content_type, "sha256": sha256_of(data)}
    session = http.post("/uploads", headers=auth, json={**body, "part_size": PART}).json()
    httpx.put(session["part_uploads"][0]["url"], content=data, timeout=30).raise_for_status()
    http.post(f"/uploads/{session['session_id']}/complete", headers=auth).raise_for_status()
    return str(session["session_id"])


def test_an_attached_image_is_shown_to_the_model_and_another_file_is_named(served, fake, http):
    fake.then(Answer(tokens=("A cat.",)), Answer(tokens=("I cannot see it.",)))
    auth, token, room = _room(http)
    image = b"\x89PNG\r\n\x1a\n" + file_of(3000)
    clip = file_of(2000, seed=3)
    messages = f"{ROOMS}/{room['room_id']}/messages"

    with room_socket(served.url, room["room_id"], token) as socket:
        until(socket, "history")
        for client_id, data, content_type in (("i", image, "image/png"), ("v", clip, "video/mp4")):
            upload_id = _uploaded(http, auth, data, content_type)
            body = {"client_id": client_id, "text": "@assistant what is this?"}
            posted = http.post(messages, headers=auth, json={**body, "upload_id": upload_id})
            assert posted.status_code == 201, posted.text
            until_reply(socket)

    shown, named = (request["body"]["messages"][-1] for request in fake.requests)
    encoded = base64.b64encode(image).decode()
    assert shown == {
        "role": "user",
        "content": [
            {"type": "text", "text": "@assistant what is this?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}},
        ],
    }
    assert named["content"].startswith("@assistant what is this?\n\n(A file is attached: ")
    assert "video/mp4, 2000 bytes" in named["content"] and "not shown to you" in named["content"]
    earlier = [m["content"] for m in fake.requests[1]["body"]["messages"][1:-1]]
    assert earlier == ["@assistant what is this?", "A cat."]  # the image is not sent again
