"""The queue deadline on real PostgreSQL: a job uploaded or queued and never started is canceled.

Such a job holds its reservation and a concurrent-job slot; ``fire_due`` is driven with a
``now`` past ``job_queue_timeout_seconds`` after the job's ``uploaded_at`` or ``queued_at``.
"""

from datetime import timedelta
from uuid import uuid4

import pytest

from api.bootstrap import deadline_scheduler
from domain.commands.job import (
    ConfirmUpload,
    CreateJob,
    ExecuteJob,
    RecordItemResult,
)
from domain.commands.jobendings import ExpireUnstarted
from domain.commands.usercredits import OpenAccount
from projections.jobs.dispatch import lease
from tests.e2e.flows import settle
from tests.fakes import SHIPPED, STORED

COST = 1  # the cost per item of every job here
LATER = timedelta(seconds=1)


@pytest.fixture
def settings(settings):
    # The scheduler of `running` must stay idle: the tests fire deadlines themselves.
    settings.deadline_poll_seconds = 3600
    return settings


@pytest.fixture
def scheduler(running):
    return deadline_scheduler(running)


@pytest.fixture
def user_id(running):
    user_id = uuid4()
    running.executor.execute(OpenAccount(user_id, "pro", 100))
    return user_id


def uploaded(running, user_id, items=2):
    job_id = uuid4()
    running.executor.execute(CreateJob(job_id, user_id, "portrait", items, SHIPPED))
    running.executor.execute(ConfirmUpload(job_id, user_id, STORED))
    return job_id


def queued(running, user_id, items=2):
    job_id = uploaded(running, user_id, items)
    running.executor.execute(ExecuteJob(job_id, user_id))
    return job_id


def job_row(running, job_id):
    with running.reads.connection() as conn:
        return conn.execute("SELECT * FROM jobs_log WHERE job_id = %s", (job_id,)).fetchone()


def dispatched(running, job_id):
    with running.reads.connection() as conn:
        return conn.execute(
            "SELECT count(*) AS n FROM job_dispatch WHERE job_id = %s", (job_id,)
        ).fetchone()["n"]


def available(running, user_id):
    """The user's available credits as ``user_summary`` (GET /me) has them."""
    with running.reads.connection() as conn:
        return conn.execute(
            "SELECT credits FROM user_summary WHERE user_id = %s", (user_id,)
        ).fetchone()["credits"]


def last_ledger_row(running, user_id):
    with running.reads.connection() as conn:
        return conn.execute(
            "SELECT kind, job_id, delta, reason FROM credit_ledger WHERE user_id = %s "
            "ORDER BY id DESC LIMIT 1",
            (user_id,),
        ).fetchone()


def event_count(running, originator_id):
    with running.reads.connection() as conn:
        return conn.execute(
            "SELECT count(*) AS n FROM chronicle_events WHERE originator_id = %s", (originator_id,)
        ).fetchone()["n"]


def due(running, since):
    """The moment the queue deadline of a job uploaded or queued at ``since`` passes."""
    return since + timedelta(seconds=running.settings.job_queue_timeout_seconds)


def test_a_job_uploaded_and_never_executed_is_canceled_and_refunded(running, scheduler, user_id):
    job_id = uploaded(running, user_id)
    settle(running)
    fired = scheduler.fire_due(now=due(running, job_row(running, job_id)["uploaded_at"]) + LATER)
    settle(running)
    assert fired == 1
    row = job_row(running, job_id)
    assert (row["status"], row["reason"]) == ("canceled", "execute deadline passed")
    assert row["settlement"] == "rolled_back"
    assert available(running, user_id) == 100
    assert last_ledger_row(running, user_id) == {
        "kind": "refund",
        "job_id": str(job_id),
        "delta": 2 * COST,
        "reason": "rolled back",
    }


def test_a_job_queued_with_no_item_ever_leased_is_canceled_and_refunded(
    running, scheduler, user_id
):
    job_id = queued(running, user_id)
    settle(running)
    fired = scheduler.fire_due(now=due(running, job_row(running, job_id)["queued_at"]) + LATER)
    settle(running)
    assert fired == 1
    row = job_row(running, job_id)
    assert (row["status"], row["reason"]) == ("canceled", "queue deadline passed")
    assert dispatched(running, job_id) == 0
    assert available(running, user_id) == 100


def test_a_queued_job_with_a_leased_item_is_left_to_its_leases(running, scheduler, user_id):
    job_id = queued(running, user_id)
    settle(running)
    leased = lease(running.reads, "gpu-1", limit=1, seconds=60, max_attempts=3)
    assert [r["job_id"] for r in leased] == [job_id]
    events_before = event_count(running, job_id)
    fired = scheduler.fire_due(now=due(running, job_row(running, job_id)["queued_at"]) + LATER)
    assert fired == 0
    assert event_count(running, job_id) == events_before
    assert job_row(running, job_id)["status"] == "queued"


def test_jobs_uploaded_or_queued_within_the_timeout_are_left_alone(running, scheduler, user_id):
    waiting = [uploaded(running, user_id), queued(running, user_id)]
    settle(running)
    counts = {i: event_count(running, i) for i in waiting}
    earliest = job_row(running, waiting[0])["uploaded_at"]  # before the other's queued_at
    fired = scheduler.fire_due(now=due(running, earliest) - LATER)
    assert fired == 0
    assert {i: event_count(running, i) for i in waiting} == counts
    assert [job_row(running, i)["status"] for i in waiting] == ["uploaded", "queued"]


def test_firing_the_queue_deadline_twice_changes_nothing_the_second_time(
    running, scheduler, user_id
):
    expiring = [uploaded(running, user_id), queued(running, user_id)]
    settle(running)
    now = due(running, job_row(running, expiring[1])["queued_at"]) + LATER
    assert scheduler.fire_due(now=now) == 2
    settle(running)
    counts = {i: event_count(running, i) for i in [*expiring, user_id]}
    assert scheduler.fire_due(now=now) == 0
    settle(running)
    assert {i: event_count(running, i) for i in counts} == counts
    assert available(running, user_id) == 100


def test_the_command_leaves_a_job_that_started_meanwhile(running, user_id):
    job_id = queued(running, user_id)
    running.executor.execute(RecordItemResult(job_id, 0, "succeeded", "cb-0"))
    queued_at = running.event_store.repository.get(job_id).queued_at
    outcome = running.executor.execute(ExpireUnstarted(job_id, queued_at + timedelta(days=2)))
    assert outcome.result.expired is False
    assert running.event_store.repository.get(job_id).status == "running"
