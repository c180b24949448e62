"""The assistant's reply as it is generated: partial frames, from the reactor to every socket.

Partial frames are not events: nothing of them is kept, and a client that misses some still
gets the whole reply once it is recorded (``ChatRoom.AssistantReplied``, in log order). They
travel as PostgreSQL notifications on ``CHANNEL``, a few words per NOTIFY (within its 8000-byte
payload), to each API process's one LISTEN connection (the log watcher), which hands them to
the sockets of the room, each through a bounded queue: a socket too slow for them loses
partial frames (their ``seq`` shows the gap), never messages.

A frame: ``{"type": "partial", "room_id", "message_id" (the reply's), "reply_to", "seq",
"text"}``, ``text`` being the words since the previous frame.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

from psycopg_pool import ConnectionPool

CHANNEL = "chronicle_chat_partials"
MAX_CHARS = 1000  # of text per frame: at most 6 bytes each once JSON-escaped, within 8000
QUEUE_SIZE = 256  # frames a socket may have waiting before it loses some

log = logging.getLogger(__name__)
Frame = dict[str, Any]


def publish(pool: ConnectionPool[Any], frame: Frame) -> None:
    """Send ``frame`` to every process listening (at once: a NOTIFY outside a transaction)."""
    payload = json.dumps(frame, ensure_ascii=False, default=str)
    with pool.connection() as conn:
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


class PartialReplies:
    """This process's sockets by room, and the partial frames handed to them."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._lock = threading.Lock()
        self._rooms: dict[str, dict[asyncio.Queue[Frame], asyncio.AbstractEventLoop]] = {}

    def subscribe(self, room_id: object) -> asyncio.Queue[Frame]:
        """A queue of the room's partial frames (called on the socket's event loop)."""
        queue: asyncio.Queue[Frame] = asyncio.Queue(self._queue_size)
        with self._lock:
            self._rooms.setdefault(str(room_id), {})[queue] = asyncio.get_running_loop()
        return queue

    def unsubscribe(self, room_id: object, queue: asyncio.Queue[Frame]) -> None:
        with self._lock:
            queues = self._rooms.get(str(room_id), {})
            queues.pop(queue, None)
            if not queues:
                self._rooms.pop(str(room_id), None)

    def deliver(self, payload: str) -> None:
        """Hand one notification's frame to the sockets of its room (the watcher's thread)."""
        frame = json.loads(payload)
        with self._lock:
            queues = list(self._rooms.get(str(frame.get("room_id")), {}).items())
        for queue, loop in queues:
            try:
                loop.call_soon_threadsafe(_offer, queue, frame)
            except RuntimeError:  # its loop is closed: nobody listens any more
                pass


def _offer(queue: asyncio.Queue[Frame], frame: Frame) -> None:
    if not queue.full():
        queue.put_nowait(frame)
