"""Read-your-writes: answer a query once the read models reached a log position (bounded).

A command's response carries its log position; a query given it as ``min_position`` waits
for the projections it reads. Routes wait asynchronously (``caught_up``), so that waiting
requests hold no thread; a position beyond the log's head is refused at once, since no
amount of waiting reaches it. With a read replica, the waits are on the replica's replayed
positions and the head is the primary's: a replica that lags makes a client wait, never refuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError

from api.bootstrap import Services
from domain.errors import NotFound, ProjectionBehind
from projections.queries import log_head

T = TypeVar("T")
BIGINT_MAX = 2**63 - 1  # log positions and row ids are PostgreSQL bigints

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


def caught_up(*names: str) -> Any:
    """A dependency: the ``min_position`` query parameter, once ``names`` have reached it.

    Use as ``min_position: Annotated[int | None, caught_up("rules")] = None``.
    """

    async def wait(request: Request, min_position: PositionQuery = None) -> int | None:
        await reach(request.app.state.services, list(names), min_position)
        return min_position

    return Depends(wait)


async def reach(
    services: Services, names: list[str], position: int | None, *, check_head: bool = True
) -> None:
    """Return once the projections ``names`` reached ``position``, holding no thread meanwhile.

    Raises a 422 for a position beyond the log's head (with ``check_head``), and
    ``ProjectionBehind`` when the projections did not get there within the read wait.
    """
    if not position or services.watcher.has_reached(names, position):
        return
    if check_head:
        head = await anyio.to_thread.run_sync(log_head, services.primary)
        if position > head:
            raise RequestValidationError(
                [
                    {
                        "type": "beyond_log_head",
                        "loc": ("query", "min_position"),
                        "msg": f"log position {position} is beyond the log's head ({head}) "
                        "and cannot be reached by waiting",
                    }
                ]
            )
    timeout = services.settings.read_wait_seconds
    if not await services.watcher.reached(names, position, timeout):
        raise _behind(names, position, timeout)


def wait_for(services: Services, names: list[str], position: int | None) -> None:
    """Block this thread until the projections ``names`` reached ``position`` (bounded)."""
    if not position:
        return
    timeout = services.settings.read_wait_seconds
    if not services.watcher.wait_for_position(names, position, timeout):
        raise _behind(names, position, timeout)


def find_or_not_found(
    services: Services, names: list[str], find: Callable[[], T | None], what: str
) -> T:
    """``find()``, or once more after the projections caught up with the log; else NotFound.

    What a client just created may not be projected yet: "not found" means not found as
    of the newest event, which costs one bounded wait only when the row is missing.
    """
    found = find()
    if found is None:
        wait_for(services, names, log_head(services.primary))
        found = find()
    if found is None:
        raise NotFound(f"{what} not found")
    return found


def _behind(names: list[str], position: int, timeout: float) -> ProjectionBehind:
    return ProjectionBehind(
        f"{', '.join(names)} did not reach log position {position} within {timeout:g}s; "
        "retry shortly"
    )
