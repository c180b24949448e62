"""Save status: whether what a change feeds (catalog, cache purge, search) has carried it.

It replaces "202 and poll" and "a WebSocket says saved": the editor asks with the `position`
its change answered with, and can show "saved · live on the site · searchable · similar".
"""

import uuid
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Query

from api.deps import AdminPrincipal, MeaningDep, SavedDep, existing_test
from api.reads import BIGINT_MAX, ReadsDep, beyond_head
from api.schemas.savestatus import FEEDS, SaveStatus
from projections.engine.progress import get_progress

router = APIRouter(prefix="/api/admin/tests", tags=["test admin"])


@router.get("/{test_id}/status", response_model=SaveStatus)
async def get_save_status(
    test_id: uuid.UUID,
    _: AdminPrincipal,
    saved: SavedDep,
    reads: ReadsDep,
    meaning: MeaningDep,
    position: Annotated[
        int, Query(ge=1, le=BIGINT_MAX, description="The `position` a change answered with.")
    ],
    wait: Annotated[
        bool, Query(description="Wait (bounded by the read wait) until everything reached it.")
    ] = False,
) -> SaveStatus:
    """Whether the catalog, the cache purge, the search index and the embeddings carried it.

    A deleted test is gone from the site: never `live`, `searchable` nor `similar_ready`,
    whatever the position (each consumer's `reached` still says whether the delete got there).
    `similar_ready`: the embeddings reached it and the test has a vector (so it is published).
    Unknown: 404.
    """
    test = await anyio.to_thread.run_sync(lambda: existing_test(saved, test_id, deleted_too=True))
    head = await anyio.to_thread.run_sync(reads.head)
    if position > head:
        raise beyond_head("position", position, head)
    if wait:
        await reads.watcher.reached(FEEDS, position, reads.wait_seconds)
    found = await anyio.to_thread.run_sync(get_progress, reads.pool, FEEDS, test_id, position)
    has_vector = await anyio.to_thread.run_sync(meaning.has_vector, test_id)
    return SaveStatus.of(test_id, position, test.deleted, found, has_vector=has_vector)
