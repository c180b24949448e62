"""Where queries read, and read-your-writes: answer once the read models reached a position.

A command's response carries its log position; a query given it as ``min_position`` waits
for the projections it reads. Routes wait asynchronously (``caught_up``), so that waiting
requests hold no thread; a position beyond the log's head is refused at once, since no
amount of waiting reaches it. With a read replica, queries read the replica and wait on its
replayed positions while the head is the primary's: a replica that lags makes a client wait,
never refuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from psycopg_pool import ConnectionPool

from api.services import Services
from domain.errors import InvalidCommand, NotFound, ProjectionBehind
from projections.engine.log import log_head
from projections.engine.watcher import LogWatcher

T = TypeVar("T")
BIGINT_MAX = 2**63 - 1  # log positions and row ids are PostgreSQL bigints


def position_cursor(cursor: str | None) -> int | None:
    """A page cursor that is a log position (1 to ``BIGINT_MAX``, ASCII digits), else a 422."""
    if cursor is None:
        return None
    # isdigit alone takes "²", which int() refuses
    if not (cursor.isascii() and cursor.isdigit()) or not 0 < int(cursor) <= BIGINT_MAX:
        raise InvalidCommand("cursor is not a cursor this API returned", field="cursor")
    return int(cursor)


PositionQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=BIGINT_MAX,
        description="Answer only once the read model reached this log position "
        "(the `position` of a command's response); 503 if it did not in time, "
        "422 if it is beyond the log's head.",
    ),
]


@dataclass(frozen=True)
class Reads:
    """The pool queries read, the watcher of its positions, and the primary for the log head."""

    pool: ConnectionPool
    watcher: LogWatcher
    primary: ConnectionPool
    wait_seconds: float

    @classmethod
    def of(cls, services: Services) -> Reads:
        """The reads of ``services``: its query pool and the watcher of that pool's positions."""
        return cls(
            services.reads, services.watcher, services.primary, services.settings.read_wait_seconds
        )

    def head(self) -> int:
        """The position of the newest event in the log (on the primary)."""
        return log_head(self.primary)

    async def reach(
        self, names: list[str], position: int | None, *, check_head: bool = True
    ) -> None:
        """Return once the projections ``names`` reached ``position``, holding no thread meanwhile.

        Raises a 422 for a position beyond the log's head (with ``check_head``), and
        ``ProjectionBehind`` when the projections did not get there within the read wait.
        """
        if not position or self.watcher.has_reached(names, position):
            return
        if check_head:
            head = await anyio.to_thread.run_sync(self.head)
            if position > head:
                raise beyond_head(
                    "min_position", position, head, " and cannot be reached by waiting"
                )
        if not await self.watcher.reached(names, position, self.wait_seconds):
            raise self._behind(names, position)

    def wait_for(self, names: list[str], position: int | None) -> None:
        """Block this thread until the projections ``names`` reached ``position`` (bounded)."""
        if position and not self.watcher.wait_for_position(names, position, self.wait_seconds):
            raise self._behind(names, position)

    def find_or_not_found(self, names: list[str], find: Callable[[], T | None], what: str) -> T:
        """``find()``, or once more after the projections caught up with the log; else NotFound.

        What a client just created may not be projected yet: "not found" means not found as
        of the newest event, which costs one bounded wait only when the row is missing.
        """
        found = find()
        if found is None:
            self.wait_for(names, self.head())
            found = find()
        if found is None:
            raise NotFound(f"{what} not found")
        return found

    def _behind(self, names: list[str], position: int) -> ProjectionBehind:
        return ProjectionBehind(
            f"{', '.join(names)} did not reach log position {position} within "
            f"{self.wait_seconds:g}s; retry shortly"
        )


def beyond_head(parameter: str, position: int, head: int, why: str = "") -> RequestValidationError:
    """The 422 of a query parameter naming a log position the log has not reached."""
    return RequestValidationError(
        [
            {
                "type": "beyond_log_head",
                "loc": ("query", parameter),
                "msg": f"log position {position} is beyond the log's head ({head}){why}",
            }
        ]
    )


async def get_reads(request: Request) -> Reads:
    # async, as every dependency that does no I/O: FastAPI runs a plain def in the thread pool
    state = request.app.state
    reads = getattr(state, "reads", None)
    if reads is None:  # made once per app, from the services its lifespan set
        reads = state.reads = Reads.of(state.services)
    return reads


ReadsDep = Annotated[Reads, Depends(get_reads)]


def caught_up(*names: str) -> Any:
    """A dependency: the ``min_position`` query parameter, once ``names`` have reached it.

    Use as ``min_position: Annotated[int | None, caught_up("rules")] = None``.
    """

    async def wait(reads: ReadsDep, min_position: PositionQuery = None) -> int | None:
        await reads.reach(list(names), min_position)
        return min_position

    return Depends(wait)
