"""Worker leases on the real ``job_dispatch`` table, filled and emptied by the jobs projection."""

import threading
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest

from domain.commands import job as jobs
from domain.commands import usercredits as credits
from projections.jobs.dispatch import lease
from tests.fakes import SHIPPED, STORED


@pytest.fixture
def settings(settings):
    # The scheduler of `running` must stay idle: it would fail the exhausted items here.
    settings.deadline_poll_seconds = 3600
    return settings


@pytest.fixture
def user_id(running):
    user_id = uuid4()
    running.executor.execute(credits.OpenAccount(user_id, "pro", 1000))
    return user_id


def queue_job(running, user_id, items):
    """A job created, uploaded and queued, and the jobs projection past its queueing."""
    job_id = uuid4()
    running.executor.execute(jobs.CreateJob(job_id, user_id, "bulk-tagging", items, SHIPPED))
    running.executor.execute(jobs.ConfirmUpload(job_id, user_id, STORED))
    position = running.executor.execute(jobs.ExecuteJob(job_id, user_id)).position
    wait_for_jobs(running, position)
    return job_id


def wait_for_jobs(running, position):
    assert running.watcher.wait_for_position(["jobs"], position, 30), f"jobs not at {position}"


def take(running, worker="gpu-1", limit=100, max_attempts=None):
    rows = lease(
        running.reads,
        worker,
        limit=limit,
        seconds=60,
        max_attempts=max_attempts or running.settings.lease_max_attempts,
    )
    return [(r["item_index"], r["attempts"]) for r in rows]


def expire(running, job_id):
    # Moving the lease into the past, rather than leasing for 1 s and waiting, keeps the
    # test fast and exact: the query compares lease_expires_at with the database's now().
    with running.reads.connection() as conn:
        conn.execute(
            "UPDATE job_dispatch SET lease_expires_at = now() - interval '1 second' "
            "WHERE job_id = %s",
            (job_id,),
        )


def dispatched(running, job_id):
    with running.reads.connection() as conn:
        rows = conn.execute(
            "SELECT item_index FROM job_dispatch WHERE job_id = %s ORDER BY item_index", (job_id,)
        ).fetchall()
    return [r["item_index"] for r in rows]


def test_a_queued_jobs_items_are_offered_oldest_first_with_their_upload_keys(running, user_id):
    job_id = queue_job(running, user_id, items=3)
    rows = lease(running.reads, "gpu-1", limit=2, seconds=60, max_attempts=3)
    assert [(r["job_id"], r["item_index"], r["attempts"]) for r in rows] == [
        (job_id, 0, 1),
        (job_id, 1, 1),
    ]
    assert [r["upload_key"] for r in rows] == [f"uploads/{user_id}/{job_id}/{i}" for i in (0, 1)]


def test_concurrent_leases_hand_out_each_item_once(running, user_id):
    queue_job(running, user_id, items=120)
    leased, lock = [], threading.Lock()

    def worker(name):
        while rows := take(running, worker=name, limit=4):
            with lock:
                leased.extend(rows)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, [f"gpu-{n}" for n in range(8)]))
    assert sorted(leased) == [(index, 1) for index in range(120)]


def test_a_live_lease_is_not_offered_again(running, user_id):
    queue_job(running, user_id, items=2)
    take(running)
    assert take(running, worker="gpu-2") == []


def test_an_expired_lease_is_offered_again_with_one_more_attempt(running, user_id):
    job_id = queue_job(running, user_id, items=2)
    take(running)
    expire(running, job_id)
    again = lease(running.reads, "gpu-2", limit=10, seconds=60, max_attempts=3)
    assert [(r["item_index"], r["attempts"]) for r in again] == [(0, 2), (1, 2)]
    with running.reads.connection() as conn:
        holders = conn.execute("SELECT DISTINCT leased_by FROM job_dispatch").fetchall()
    assert holders == [{"leased_by": "gpu-2"}]


def test_an_item_at_the_attempt_limit_is_not_offered_again(running, user_id):
    job_id = queue_job(running, user_id, items=1)
    for _ in range(3):
        take(running, max_attempts=3)
        expire(running, job_id)
    assert take(running, max_attempts=3) == []
    assert take(running, max_attempts=4) == [(0, 4)]


def test_a_reported_item_leaves_the_dispatch_table(running, user_id):
    job_id = queue_job(running, user_id, items=3)
    take(running)
    outcome = running.executor.execute(jobs.RecordItemResult(job_id, 1, "succeeded", "cb-1"))
    wait_for_jobs(running, outcome.position)
    assert dispatched(running, job_id) == [0, 2]


def test_the_last_reported_item_empties_the_dispatch_table(running, user_id):
    job_id = queue_job(running, user_id, items=2)
    take(running)
    running.executor.execute(jobs.RecordItemResult(job_id, 0, "succeeded", "cb-0"))
    outcome = running.executor.execute(jobs.RecordItemResult(job_id, 1, "failed", "cb-1"))
    wait_for_jobs(running, outcome.position)
    assert dispatched(running, job_id) == []


def test_a_canceled_jobs_items_leave_the_dispatch_table(running, user_id):
    job_id = queue_job(running, user_id, items=3)
    other = queue_job(running, user_id, items=1)
    take(running, limit=1)
    outcome = running.executor.execute(jobs.CancelJob(job_id, user_id, "changed my mind"))
    wait_for_jobs(running, outcome.position)
    assert (dispatched(running, job_id), dispatched(running, other)) == ([], [0])
    assert take(running) == [(0, 1)]
