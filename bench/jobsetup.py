"""Jobs and users made before a timed window, and the checks and load timings made after it."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import psycopg
from eventsourcing.utils import get_topic

from bench.server import wait_for_connections
from domain.commands.job import ConfirmUpload, CreateJob, ExecuteJob
from domain.commands.usercredits import OpenAccount
from domain.job import Job
from domain.jobstatus import JobStatus
from domain.presets import Presets
from domain.usercredits import UserCredits
from eventstore.application import open_application
from eventstore.executor import CommandExecutor
from projections.engine.runner import ProjectionRunner
from projections.engine.watcher import LogWatcher
from projections.usercredits.summary import UserSummaryProjection

PRESETS = Presets.load(None)
BIG_PRESET = PRESETS.get("bulk-tagging")  # the preset that takes 10,000 items
COUNT_TOPICS = """
    SELECT topic, count(*) FROM chronicle_events WHERE originator_id = %s GROUP BY topic
"""
COUNT_OUTCOMES = "SELECT count(*) FROM command_idempotency WHERE key LIKE %s"
SIZES = """
    SELECT (SELECT length(state) FROM chronicle_events
            WHERE originator_id = %(id)s AND originator_version = 1),
           (SELECT max(originator_version) FROM chronicle_snapshots WHERE originator_id = %(id)s),
           (SELECT length(state) FROM chronicle_snapshots WHERE originator_id = %(id)s
            ORDER BY originator_version DESC LIMIT 1),
           (SELECT max(originator_version) FROM chronicle_events WHERE originator_id = %(id)s)
"""


@dataclass(frozen=True)
class BenchJob:
    """A queued job whose items the bench reports, and the user who pays for it."""

    job_id: UUID
    user_id: UUID
    items: int

    def result_key(self, index: int) -> str:
        return f"results/{self.user_id}/{self.job_id}/{index}"


def queued_job(executor: CommandExecutor, items: int) -> BenchJob:
    """A fresh ``pro`` user with just enough credits, and a job of ``items`` items, queued."""
    user_id, job_id, cost = uuid4(), uuid4(), BIG_PRESET.credit_cost
    executor.execute(OpenAccount(user_id, "pro", items * cost))
    executor.execute(CreateJob(job_id, user_id, BIG_PRESET.id, items, PRESETS))
    executor.execute(ConfirmUpload(job_id, user_id, _AllUploaded()))
    executor.execute(ExecuteJob(job_id, user_id))
    return BenchJob(job_id, user_id, items)


LEASE_ALL = """
    INSERT INTO job_dispatch (job_id, item_index, user_id, upload_key, queued_at, attempts,
        leased_by, lease_expires_at)
    SELECT %(job)s::uuid, i, %(user)s::uuid,
        'uploads/' || %(user)s || '/' || %(job)s || '/' || i, now(), 1,
        %(actor)s, now() + interval '1 hour'
    FROM generate_series(0, %(items)s - 1) AS i
    ON CONFLICT (job_id, item_index) DO UPDATE
        SET leased_by = EXCLUDED.leased_by, attempts = 1,
            lease_expires_at = EXCLUDED.lease_expires_at
"""


def lease_all(dsn: str, job: BenchJob, actor: str) -> None:
    """Every item of ``job`` leased to ``actor``, as ``POST /worker/leases`` would leave them.

    The bench's API server runs no projections, so the queue rows a lease updates are written
    here; a callback is accepted only from the worker holding the item's lease.
    """
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            LEASE_ALL,
            {"job": str(job.job_id), "user": str(job.user_id), "actor": actor, "items": job.items},
        )


def funded_users(executor: CommandExecutor, count: int, plan: str, balance: int) -> list[UUID]:
    """``count`` fresh users on ``plan`` with ``balance`` credits each."""
    users = [uuid4() for _ in range(count)]
    for user_id in users:
        executor.execute(OpenAccount(user_id, plan, balance))
    return users


def check_job(dsn: str, job: BenchJob, outcome_prefix: str | None) -> list[str]:
    """What is wrong with the finished job, reloaded by a fresh application (none if all is well).

    It must be ``done`` with every item counted once: ``items`` ItemSucceeded events, one
    Started and one Finished, and, over HTTP, one stored callback outcome per item.
    """
    app = open_application(dsn, pool_size=2)
    try:
        loaded: Job = app.repository.get(job.job_id)
    finally:
        app.close()
    with psycopg.connect(dsn) as conn:
        counts: Counter[str] = Counter(dict(conn.execute(COUNT_TOPICS, (job.job_id,)).fetchall()))
        outcomes = None
        if outcome_prefix is not None:
            row = conn.execute(COUNT_OUTCOMES, (outcome_prefix + "%",)).fetchone()
            outcomes = row[0] if row else 0
    problems = []
    state = (loaded.status, loaded.succeeded_items, loaded.failed_items, len(loaded.results))
    if state != (JobStatus.DONE, job.items, 0, job.items) or len(loaded.callback_keys) != job.items:
        problems.append(
            f"job {job.job_id}: status {loaded.status!r}, {loaded.succeeded_items} succeeded, "
            f"{loaded.failed_items} failed, {len(loaded.results)} results; expected "
            f"{JobStatus.DONE.value!r} with {job.items} done"
        )
    recorded = (counts[get_topic(e)] for e in (Job.ItemSucceeded, Job.Started, Job.Finished))
    if tuple(recorded) != (job.items, 1, 1) or counts[get_topic(Job.ItemFailed)]:
        problems.append(f"job {job.job_id}: events recorded {dict(counts)}")
    if outcomes is not None and outcomes != job.items:
        problems.append(f"job {job.job_id}: {outcomes} callback outcomes stored, not {job.items}")
    return problems


def check_users(dsn: str, users: list[UUID], balance: int, acked: Counter[UUID]) -> list[str]:
    """Each user holds one reservation per job acknowledged to it, and no credit went missing."""
    app = open_application(dsn, pool_size=2)
    problems = []
    try:
        for user_id in users:
            credits: UserCredits = app.repository.get(user_id)
            held = len(credits.reservations)
            if held != acked[user_id] or credits.available + credits.reserved != balance:
                problems.append(
                    f"user {user_id}: {held} reservations for {acked[user_id]} jobs acknowledged; "
                    f"available {credits.available} + reserved {credits.reserved} != {balance}"
                )
    finally:
        app.close()
    return problems


@dataclass
class LoadTimes:
    """Loading a finished job from a fresh application: from its snapshot, and by full replay."""

    snapshot_ms: list[float]
    replay_ms: list[float]
    sizes: tuple[Any, ...]


def load_times(dsn: str, job_id: UUID, repeats: int = 5) -> LoadTimes:
    """Time ``repository.get`` (last snapshot + later events) and a replay of every event."""
    snapshot, replay = [], []
    for _ in range(repeats):
        app = open_application(dsn, pool_size=1)
        try:
            wait_for_connections(app)
            started = time.perf_counter()
            app.repository.get(job_id)
            snapshot.append(1000 * (time.perf_counter() - started))
            started = time.perf_counter()
            aggregate: Any = None
            events: Any = app.events.get(job_id)  # the library types them without mutate
            for event in events:
                aggregate = event.mutate(aggregate)
            replay.append(1000 * (time.perf_counter() - started))
        finally:
            app.close()
    with psycopg.connect(dsn) as conn:
        sizes = conn.execute(SIZES, {"id": job_id}).fetchone() or ()
    return LoadTimes(snapshot, replay, tuple(sizes))


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def project_user_summary(dsn: str, event_store: Any, timeout: float = 120) -> None:
    """Bring ``user_summary`` to the log's head from this process (``chronicle api`` runs no
    projector), then stop: ``GET /me`` reads it."""
    watcher = LogWatcher(dsn).start()
    runner = ProjectionRunner(dsn, event_store, [UserSummaryProjection()], watcher).start()
    try:
        with psycopg.connect(dsn) as conn:
            row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM chronicle_events")
            head = row.fetchone()[0]  # type: ignore[index]
        if not watcher.wait_for_position(["user_summary"], head, timeout):
            raise RuntimeError(f"user_summary did not reach log position {head} in {timeout:g}s")
    finally:
        runner.stop()
        watcher.stop()


class _AllUploaded:
    """The uploads of a job set up here are never checked: the bench measures what follows."""

    def missing(self, keys: list[str]) -> list[str]:
        return []
