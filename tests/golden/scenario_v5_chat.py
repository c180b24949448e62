"""The scenario that wrote events_v5_chat.json: a ChatRoom's every event, and its snapshot.

It was run once, on the working tree of the chat rooms, with ``PYTHONPATH=<checkout> python
scenario_v5_chat.py <source> events_v5_chat.json`` on the library's in-memory store. Never run
it again over the fixture: it is what this code stored, and later code must load it as it is.
"""

import sys
from datetime import UTC, datetime
from uuid import UUID

from domain.chatroom import ChatRoom
from tests.golden.fixture import write

ROOM = UUID("00000000-0000-4000-8000-0000000000e1")
OWNER = UUID("00000000-0000-4000-8000-0000000000e2")
GUEST = UUID("00000000-0000-4000-8000-0000000000e3")
AT = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
METADATA = {"actor": "golden", "correlation_id": "corr-5c", "causation_id": "cause-5c"}


def scenario() -> list:
    room = ChatRoom.create(ROOM, "여행 이야기", False, OWNER, 50)
    room.join(GUEST)
    first = room.post(OWNER, "c-1", "안녕하세요", AT)
    room.post(GUEST, "g-1", "hello", AT)
    room.edit(OWNER, first, "안녕하세요!")
    room.delete(OWNER, first)
    room.leave(GUEST)
    room.close(OWNER)
    return [room]


def main(source: str, path: str) -> None:
    write(scenario, METADATA, source, path)


if __name__ == "__main__":
    main(*sys.argv[1:])
