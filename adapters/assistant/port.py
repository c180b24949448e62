"""The ``Assistant`` port: a model that answers a conversation, its reply streamed as text.

Synchronous on purpose, like every other port here (the executor, the stores, the search
index): a caller runs ``stream_reply`` in a worker thread and hands each delta to its event
loop (``anyio.to_thread`` / ``starlette.concurrency.iterate_in_threadpool``). An async port
would tie the adapter to one event loop and gain nothing: one reply holds one thread for
its length, and a reply is a single HTTP stream. Closing the iterator early (the room
closed, the client left) closes the HTTP stream.

Errors, raised while iterating (``domain.errors``):

    AssistantUnavailable     before the first delta: unreachable, timed out, refused (its
                             ``reason`` detail says which; ``retry_after`` on a rate limit).
                             The adapter retries what a retry may cure, a bounded number of
                             times, before it raises.
    AssistantInterrupted     after the first delta: the stream broke. Never retried (the
                             caller has shown the words already); ``text`` is the reply so far,
                             to record as an interrupted reply.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from domain.assistant import Turn


class Assistant(Protocol):
    """A model behind an API that answers a conversation, streaming its reply."""

    model: str  # the default model, used when a call names none

    def stream_reply(
        self, messages: list[Turn], *, model: str | None = None, max_tokens: int | None = None
    ) -> Iterator[str]:
        """The reply to ``messages`` as text deltas, in order, from ``model`` (else the default),
        at most ``max_tokens`` long (else the model's limit)."""
        ...
