"""Server-Sent Events from the log: what every live stream shares.

A stream's ``id`` is a log position. It starts after the position the client names
(``Last-Event-ID``, or ``?after=``): first what the read model holds, then what the process's
live tail hands it, each position once. Between messages it sends comments (heartbeats), so
that proxies keep idle streams open. It ends when the process stops (the client reconnects
elsewhere and resumes), and a client too slow to drain its bounded queue is disconnected: it
resumes by position like any other.

Routes stream through ``StreamRoute``, whose requests the server can disconnect: a client that
stopped reading would otherwise hold its stream (and the server's write) forever.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Header, Query, Request
from fastapi.routing import APIRoute
from fastapi.sse import ServerSentEvent
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from api.reads import BIGINT_MAX, Reads
from projections.audit.feeds import Feed, read_after
from projections.audit.live import LiveTail
from projections.chatassistant.partials import PartialReplies

log = logging.getLogger(__name__)
CUT = "chronicle.stream.cut"  # the scope key of a stream's disconnect switch
HISTORY_PAGE = 500
ENCODED = "_encoded"  # where a row keeps its JSON, per schema, for the streams that share it

After = Annotated[
    int | None,
    Query(ge=0, le=BIGINT_MAX, description="Resume after this log position (`Last-Event-ID`)."),
]
# Checked with the request (a 422 naming it), never in the stream: its answer has started by then.
LastEventId = Annotated[
    str | None,
    Header(
        pattern=r"^[0-9]{0,19}$",
        description="The last `id` the client received: a log position (empty: none).",
    ),
]


@dataclass
class Streams:
    """This process's open streams: the live tail, the assistant's partial replies, their
    settings and their stop."""

    tail: LiveTail
    heartbeat_seconds: float = 15.0
    queue_size: int = 1000
    partials: PartialReplies = field(default_factory=PartialReplies)
    _stops: dict[asyncio.Event, asyncio.AbstractEventLoop] = field(default_factory=dict)

    def close(self) -> None:
        """End every open stream now (the process stops), and every stream opened after it:
        the server answers requests until it closes its socket, a moment later."""
        self.tail.close_all()
        for event, loop in list(self._stops.items()):
            loop.call_soon_threadsafe(event.set)

    def stopped(self) -> asyncio.Event:
        """An event set when the process stops (on the caller's loop); ``forget`` it after."""
        event = asyncio.Event()
        self._stops[event] = asyncio.get_running_loop()
        if self.tail.closed:
            event.set()
        return event

    def forget(self, event: asyncio.Event) -> None:
        self._stops.pop(event, None)

    def close_on_signals(self) -> None:
        """Close the streams as the server starts to stop (SIGTERM, SIGINT), before it waits
        for open connections: uvicorn would wait for every stream to end on its own.

        Called on the server's loop after uvicorn installed its handlers (at startup); the
        handler only schedules the close on that loop, which is safe from a signal.
        """
        if threading.current_thread() is not threading.main_thread():
            return  # a server in a thread takes no signals
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)
            if callable(previous):
                signal.signal(sig, _also(loop, self.close, previous))


def _also(
    loop: asyncio.AbstractEventLoop, first: Callable[[], None], then: Callable[[int, Any], Any]
) -> Callable[[int, Any], Any]:
    def handler(signum: int, frame: Any) -> Any:
        loop.call_soon_threadsafe(first)
        return then(signum, frame)

    return handler


def resume_position(after: int | None, last_event_id: str | None) -> int:
    """Where a stream starts: ``after``, else the ``Last-Event-ID`` a reconnecting client sends."""
    if after is not None:
        return after
    if last_event_id:  # ASCII digits (``LastEventId``)
        return min(int(last_event_id), BIGINT_MAX)
    return 0


@dataclass(frozen=True)
class Ended:
    """A followed feed stopped: the process stops (``closed``), or the client was too slow."""

    closed: bool
    sent: int  # the last position handed out: where the client resumes


async def rows_after(
    streams: Streams,
    reads: Reads,
    feed: Feed,
    after: int,
    *,
    applied_by: list[str],
    on_cut: Callable[[], None] | None = None,
) -> AsyncGenerator[dict[str, Any] | Ended | None]:
    """The rows of ``feed`` after ``after`` in log order, each once ``applied_by`` reached it;
    ``None`` after each idle heartbeat; ``Ended`` last if the feed stops under the follower."""
    sub = streams.tail.subscribe(feed.matches, after, streams.queue_size)
    sub.on_cut = on_cut
    sent = after
    try:
        while sent < sub.history_until and not sub.cut:  # older than the tail holds
            read = functools.partial(read_after, reads.primary, feed, sent, sub.history_until)
            rows = await anyio.to_thread.run_sync(functools.partial(read, limit=HISTORY_PAGE))
            if not rows:
                break
            for row in rows:
                await _applied(reads, applied_by, row["position"])
                yield row
                sent = row["position"]
        while True:
            rows = sub.take()
            if sub.cut:
                yield Ended(sub.closed, sent)
                return
            for row in rows:
                if row["position"] <= sent:
                    continue
                await _applied(reads, applied_by, row["position"])
                yield row
                sent = row["position"]
            if not rows and not await sub.wait(streams.heartbeat_seconds):
                yield None
    finally:
        streams.tail.unsubscribe(sub)


async def follow(
    request: Request,
    streams: Streams,
    reads: Reads,
    feed: Feed,
    after: int,
    *,
    present: Callable[[dict[str, Any]], ServerSentEvent],
    applied_by: list[str],
    last: Callable[[dict[str, Any]], bool] = lambda row: False,
) -> AsyncIterator[ServerSentEvent]:
    """``rows_after`` as Server-Sent Events, until ``last`` (the client can be disconnected)."""
    cut = request.scope.get(CUT)
    rows = rows_after(
        streams, reads, feed, after, applied_by=applied_by, on_cut=cut.set if cut else None
    )
    async with aclosing(rows):
        async for row in rows:
            if row is None:
                yield ServerSentEvent(comment="keep-alive")
            elif isinstance(row, Ended):
                yield _goodbye(row.closed, row.sent)
            else:
                yield present(row)
                if last(row):
                    return


def encoded_once(row: dict[str, Any], model: type[BaseModel]) -> str:
    """``row`` as ``model``'s JSON, encoded once for every stream the tail hands it to."""
    cache = row.setdefault(ENCODED, {})
    if model not in cache:
        cache[model] = model.model_validate(row).model_dump_json()
    return cache[model]


async def _applied(reads: Reads, names: list[str], position: int) -> None:
    """Once the read models ``names`` reached ``position`` (however long that takes)."""
    while names and not await reads.watcher.reached(names, position, reads.wait_seconds):
        pass


def _goodbye(closed: bool, sent: int) -> ServerSentEvent:
    why = "the server is stopping" if closed else "the client read too slowly"
    return ServerSentEvent(comment=f"{why}: resume after id {sent}", retry=1000)


async def until_stopped(streams: Streams, waits: Sequence[Awaitable[Any]], timeout: float) -> bool:
    """Wait for the first of ``waits``, ``timeout`` or the process's stop; False once stopped."""
    stopped = streams.stopped()
    tasks = [asyncio.ensure_future(w) for w in waits]
    stop = asyncio.ensure_future(stopped.wait())
    try:
        await asyncio.wait([*tasks, stop], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        return not stopped.is_set()
    finally:
        for task in [*tasks, stop]:
            task.cancel()
        streams.forget(stopped)


class StreamRoute(APIRoute):
    """A route whose request the server can disconnect (``request.scope[CUT].set()``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = _disconnectable(self.app)


def _disconnectable(app: ASGIApp) -> ASGIApp:
    async def disconnectable(scope: Scope, receive: Receive, send: Send) -> None:
        cut = scope[CUT] = asyncio.Event()

        async def receive_or_cut() -> Any:
            message = asyncio.ensure_future(receive())
            cutting = asyncio.ensure_future(cut.wait())
            done, _ = await asyncio.wait([message, cutting], return_when=asyncio.FIRST_COMPLETED)
            if message in done:
                cutting.cancel()
                return message.result()
            message.cancel()
            log.warning("disconnected a stream of %s: its client read too slowly", scope["path"])
            return {"type": "http.disconnect"}

        await app(scope, receive_or_cut, send)

    return disconnectable
