"""WebSocket steps shared by the chat tests."""

from __future__ import annotations

import json
from typing import Any

from websockets.sync.client import ClientConnection, connect


def room_socket(url: str, room_id: str, token: str, **params: Any) -> ClientConnection:
    query = "&".join([f"token={token}", *(f"{k}={v}" for k, v in params.items())])
    ws_url = url.replace("http://", "ws://") + f"/chat/rooms/{room_id}?{query}"
    return connect(ws_url, open_timeout=30, close_timeout=5)


def frame(socket: ClientConnection, timeout: float = 30) -> dict[str, Any]:
    return json.loads(socket.recv(timeout=timeout))


def until(socket: ClientConnection, kind: str, timeout: float = 30) -> dict[str, Any]:
    """The next frame of type ``kind`` (events of other types skipped)."""
    while True:
        received = frame(socket, timeout)
        if received["type"] == kind:
            return received


def post(socket: ClientConnection, client_id: str, text: str) -> dict[str, Any]:
    socket.send(json.dumps({"type": "post", "client_id": client_id, "text": text}))
    return until(socket, "ack")


def posted_positions(events: list[dict[str, Any]]) -> list[int]:
    return [e["position"] for e in events if e["event_type"] == "ChatRoom.Posted"]


def until_reply(socket: ClientConnection) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The assistant's partial frames, then its reply's event (other frames skipped)."""
    partials = []
    while True:
        received = frame(socket, 60)
        if received["type"] == "partial":
            partials.append(received)
        elif received["type"] == "event" and received["event_type"] == "ChatRoom.AssistantReplied":
            return partials, received
