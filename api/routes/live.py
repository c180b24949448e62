"""Live streams (Server-Sent Events) from the log: a job, the audit log, a test's save status.

Each message's ``id`` is its log position: a client that reconnects with ``Last-Event-ID``
(or ``?after=``) gets everything after it, from the read model and then live, each once
(``api.streams``). What a stream needs checked (the job is the caller's, the test exists, the
position is in the log) is checked before it starts, so that it fails with a 4xx, not mid-way.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from api.deps import (
    AdminPrincipal,
    MeaningDep,
    SavedDep,
    StreamsDep,
    UserPrincipal,
    existing_test,
    user_id_of,
)
from api.reads import BIGINT_MAX, ReadsDep, beyond_head
from api.schemas.audit import AuditEvent
from api.schemas.jobs import JobEvent
from api.schemas.savestatus import FEEDS, ConsumerProgress, ConsumerReached, SaveStatus
from api.schemas.times import Rfc3339Time
from api.streams import (
    After,
    LastEventId,
    StreamRoute,
    encoded_once,
    follow,
    resume_position,
    until_stopped,
)
from projections.audit.feeds import JobFeed
from projections.audit.queries import EventFilter
from projections.engine.progress import get_progress
from projections.jobs.queries import get_job

router = APIRouter(route_class=StreamRoute)
# A job's message is sent once GET /jobs/{id} and /me show it (its settlement included).
JOB_READ_MODELS = ["jobs", "user_summary", "credit_ledger"]
Name = Annotated[str | None, Query(min_length=1, max_length=200)]


async def followed_job(job_id: uuid.UUID, principal: UserPrincipal, reads: ReadsDep) -> JobFeed:
    """The feed of one of the caller's jobs (404 for anyone else's)."""
    user_id = user_id_of(principal)
    await anyio.to_thread.run_sync(
        lambda: reads.find_or_not_found(
            ["jobs"], lambda: get_job(reads.pool, job_id, user_id), f"job {job_id}"
        )
    )
    return JobFeed(job_id, user_id)


@router.get("/jobs/{job_id}/events", response_class=EventSourceResponse, tags=["jobs"])
async def follow_job(
    request: Request,
    feed: Annotated[JobFeed, Depends(followed_job)],
    streams: StreamsDep,
    reads: ReadsDep,
    after: After = None,
    last_event_id: LastEventId = None,
) -> AsyncIterator[ServerSentEvent]:
    """The job's events (state, progress) as the projections apply them, then its settlement
    (`UserCredits.Committed` or `.RolledBack`), after which the stream ends. `event` is the
    event's type (`Job.ItemSucceeded`), `id` its log position."""
    start = resume_position(after, last_event_id)
    async for message in follow(
        request, streams, reads, feed, start,
        present=_job_event, applied_by=JOB_READ_MODELS, last=feed.settles,
    ):  # fmt: skip
        yield message


@router.get("/api/admin/events/stream", response_class=EventSourceResponse, tags=["audit"])
async def follow_audit_events(
    request: Request,
    _: AdminPrincipal,
    streams: StreamsDep,
    reads: ReadsDep,
    aggregate_type: Name = None,
    aggregate_id: uuid.UUID | None = None,
    event_type: Name = None,
    actor: Name = None,
    correlation_id: Name = None,
    since: Annotated[Rfc3339Time | None, Query(description="At or after this time.")] = None,
    until: Annotated[Rfc3339Time | None, Query(description="Before this time.")] = None,
    after: After = None,
    last_event_id: LastEventId = None,
) -> AsyncIterator[ServerSentEvent]:
    """The audit log live, oldest first, with the filters of `GET /api/admin/events`; each
    message's data is an event as that list gives it. Without `after` or `Last-Event-ID` it
    starts at the log's head: only what happens from now on."""
    filters = EventFilter(
        aggregate_type, aggregate_id, event_type, actor, correlation_id, since, until
    )
    start = resume_position(after, last_event_id)
    if start == 0:
        start = await anyio.to_thread.run_sync(reads.head)
    async for message in follow(
        request, streams, reads, filters, start, present=_audit_event, applied_by=[]
    ):
        yield message


async def checked_position(
    test_id: uuid.UUID,
    _: AdminPrincipal,
    saved: SavedDep,
    reads: ReadsDep,
    position: Annotated[
        int, Query(ge=1, le=BIGINT_MAX, description="The `position` a change answered with.")
    ],
) -> tuple[bool, int]:
    """Whether the test is deleted (404 if it never existed), and the position (in the log)."""
    test = await anyio.to_thread.run_sync(lambda: existing_test(saved, test_id, deleted_too=True))
    head = await anyio.to_thread.run_sync(reads.head)
    if position > head:
        raise beyond_head("position", position, head)
    return test.deleted, position


@router.get(
    "/api/admin/tests/{test_id}/status/stream",
    response_class=EventSourceResponse,
    tags=["test admin"],
)
async def follow_save_status(
    test_id: uuid.UUID,
    change: Annotated[tuple[bool, int], Depends(checked_position)],
    streams: StreamsDep,
    reads: ReadsDep,
    meaning: MeaningDep,
) -> AsyncIterator[ServerSentEvent]:
    """Each consumer of the change (`event: consumer`) as it reaches it, is parked or fails,
    then the whole status (`event: status`, as `GET …/status` answers), and the end."""
    deleted, position = change
    told: dict[str, ConsumerProgress] = {}
    while True:
        found = await anyio.to_thread.run_sync(get_progress, reads.pool, FEEDS, test_id, position)
        for name, progress in found.items():
            now = ConsumerProgress.of(progress)
            if (progress.reached or progress.parked or progress.failed) and told.get(name) != now:
                told[name] = now
                reached = ConsumerReached(name=name, **now.model_dump())
                yield ServerSentEvent(id=str(position), event="consumer", data=reached)
        if all(p.reached for p in found.values()):
            has_vector = await anyio.to_thread.run_sync(meaning.has_vector, test_id)
            status = SaveStatus.of(test_id, position, deleted, found, has_vector=has_vector)
            yield ServerSentEvent(id=str(position), event="status", data=status)
            return
        waiting = [n for n, p in found.items() if not p.reached]
        waits = [
            reads.watcher.reached([name], position, streams.heartbeat_seconds) for name in waiting
        ]
        if not await until_stopped(streams, waits, streams.heartbeat_seconds):
            return


def _job_event(row: dict[str, Any]) -> ServerSentEvent:
    data = encoded_once(row, JobEvent)
    return ServerSentEvent(id=str(row["position"]), event=row["event_type"], raw_data=data)


def _audit_event(row: dict[str, Any]) -> ServerSentEvent:
    data = encoded_once(row, AuditEvent)
    return ServerSentEvent(id=str(row["position"]), event=row["event_type"], raw_data=data)
