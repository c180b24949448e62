"""A Server-Sent Events reader for the tests: messages as they arrive, comments included."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Message:
    """One SSE message (``comment`` only for a heartbeat or a goodbye)."""

    id: str | None = None
    event: str | None = None
    data: Any = None
    comments: list[str] = field(default_factory=list)
    retry: int | None = None

    @property
    def position(self) -> int:
        assert self.id is not None, self
        return int(self.id)


def messages(lines: Iterator[str]) -> Iterator[Message]:
    """The messages of an event stream's lines (as ``httpx.Response.iter_lines`` gives them)."""
    message, data = Message(), []
    for line in lines:
        if line == "":
            if data:
                message.data = json.loads("\n".join(data))
            if data or message.comments or message.id is not None or message.retry is not None:
                yield message
            message, data = Message(), []
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "":
            message.comments.append(value)
        elif name == "data":
            data.append(value)
        elif name == "id":
            message.id = value
        elif name == "event":
            message.event = value
        elif name == "retry":
            message.retry = int(value)


def events(response: httpx.Response) -> Iterator[Message]:
    """The messages with an id (events), heartbeats left out."""
    return (m for m in messages(response.iter_lines()) if m.id is not None)
