"""Job deadlines on real PostgreSQL: ``fire_due`` driven with a ``now`` in the future."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from api.bootstrap import deadline_scheduler
from domain.commands import job as jobs
from domain.commands import usercredits as credits
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
    running.executor.execute(credits.OpenAccount(user_id, "pro", 100))
    return user_id


def create(running, user_id, items=2):
    job_id = uuid4()
    running.executor.execute(jobs.CreateJob(job_id, user_id, "portrait", items, SHIPPED))
    return job_id


def uploaded(running, user_id, items=2):
    job_id = create(running, user_id, items)
    running.executor.execute(jobs.ConfirmUpload(job_id, user_id, STORED))
    return job_id


def queued(running, user_id, items=2):
    job_id = uploaded(running, user_id, items)
    running.executor.execute(jobs.ExecuteJob(job_id, user_id))
    return job_id


def running_job(running, user_id, items=2):
    """A job with item 0 reported: running, its last progress just now."""
    job_id = queued(running, user_id, items)
    report(running, job_id, 0)
    return job_id


def report(running, job_id, index, outcome="succeeded"):
    running.executor.execute(jobs.RecordItemResult(job_id, index, outcome, f"cb-{index}"))


def exhaust_lease(running, job_id, index, *, expire_last=True):
    """Lease the item as often as allowed; each lease expires by moving it into the past."""
    attempts = running.settings.lease_max_attempts
    for attempt in range(1, attempts + 1):
        leased = lease(running.reads, "gpu-1", limit=100, seconds=60, max_attempts=attempts)
        assert (job_id, index) in {(r["job_id"], r["item_index"]) for r in leased}
        if attempt < attempts or expire_last:
            with running.reads.connection() as conn:
                conn.execute(
                    "UPDATE job_dispatch SET lease_expires_at = now() - interval '1 second' "
                    "WHERE job_id = %s AND item_index = %s",
                    (job_id, index),
                )


def job_row(running, job_id):
    with running.reads.connection() as conn:
        return conn.execute("SELECT * FROM jobs_log WHERE job_id = %s", (job_id,)).fetchone()


def job_items(running, job_id):
    with running.reads.connection() as conn:
        return conn.execute(
            "SELECT item_index, outcome, error FROM job_items WHERE job_id = %s "
            "ORDER BY item_index",
            (job_id,),
        ).fetchall()


def ledger(running, user_id):
    with running.reads.connection() as conn:
        return conn.execute(
            "SELECT kind, job_id, delta, reason FROM credit_ledger WHERE user_id = %s ORDER BY id",
            (user_id,),
        ).fetchall()


def available(running, user_id):
    """The user's available credits as ``user_summary`` (GET /me) has them."""
    with running.reads.connection() as conn:
        return conn.execute(
            "SELECT credits FROM user_summary WHERE user_id = %s", (user_id,)
        ).fetchone()["credits"]


def event_count(running, originator_id):
    with running.reads.connection() as conn:
        return conn.execute(
            "SELECT count(*) AS n FROM chronicle_events WHERE originator_id = %s", (originator_id,)
        ).fetchone()["n"]


def upload_due(running):
    return datetime.now(UTC) + timedelta(seconds=running.settings.job_upload_timeout_seconds)


def stall_due(last_progress_at, running):
    return last_progress_at + timedelta(seconds=running.settings.job_stall_timeout_seconds)


def test_a_job_not_uploaded_in_time_is_canceled_and_refunded(running, scheduler, user_id):
    job_id = create(running, user_id)
    settle(running)
    fired = scheduler.fire_due(now=upload_due(running) + LATER)
    settle(running)
    assert fired == 1
    row = job_row(running, job_id)
    assert (row["status"], row["reason"]) == ("canceled", "upload deadline passed")
    assert available(running, user_id) == 100
    assert ledger(running, user_id)[-1] == {
        "kind": "refund",
        "job_id": str(job_id),
        "delta": 2 * COST,
        "reason": "rolled back",
    }


def test_a_job_uploaded_in_time_is_not_canceled_by_the_same_firing(running, scheduler, user_id):
    late = create(running, user_id)
    on_time = uploaded(running, user_id)
    settle(running)
    events_before = event_count(running, on_time)
    fired = scheduler.fire_due(now=upload_due(running) + LATER)
    settle(running)
    assert fired == 1 and job_row(running, late)["status"] == "canceled"
    assert job_row(running, on_time)["status"] == "uploaded"
    assert event_count(running, on_time) == events_before
    assert available(running, user_id) == 100 - 2 * COST


def test_a_running_job_without_progress_past_the_stall_timeout_is_failed_and_refunded(
    running, scheduler, user_id
):
    job_id = running_job(running, user_id)
    settle(running)
    last_progress_at = job_row(running, job_id)["last_progress_at"]
    fired = scheduler.fire_due(now=stall_due(last_progress_at, running) + LATER)
    settle(running)
    assert fired == 1
    row = job_row(running, job_id)
    assert (row["status"], row["reason"], row["consumed"]) == ("failed", "stalled", 0)
    assert available(running, user_id) == 100
    assert ledger(running, user_id)[-1] == {
        "kind": "refund",
        "job_id": str(job_id),
        "delta": 2 * COST,
        "reason": "rolled back",
    }


def test_a_running_job_with_progress_within_the_stall_timeout_is_not_failed(
    running, scheduler, user_id
):
    job_id = running_job(running, user_id)
    settle(running)
    last_progress_at = job_row(running, job_id)["last_progress_at"]
    events_before = event_count(running, job_id)
    fired = scheduler.fire_due(now=stall_due(last_progress_at, running) - LATER)
    assert fired == 0
    assert event_count(running, job_id) == events_before
    assert job_row(running, job_id)["status"] == "running"


def test_firing_twice_changes_nothing_the_second_time(running, scheduler, user_id):
    due = [create(running, user_id), running_job(running, user_id)]
    exhausted = queued(running, user_id, items=1)
    settle(running)
    exhaust_lease(running, exhausted, 0)
    now = upload_due(running) + LATER  # past the stall timeout too: it is the shorter
    assert scheduler.fire_due(now=now) == 3
    settle(running)
    counts = {i: event_count(running, i) for i in [*due, exhausted, user_id]}
    fired = scheduler.fire_due(now=now)
    settle(running)
    assert fired == 0
    assert {i: event_count(running, i) for i in counts} == counts
    assert available(running, user_id) == 100


def test_an_item_whose_leases_are_exhausted_is_failed_with_its_deadline_key(
    running, scheduler, user_id
):
    job_id = queued(running, user_id, items=2)
    settle(running)
    exhaust_lease(running, job_id, 1)
    fired = scheduler.fire_due()
    settle(running)
    assert fired == 1
    job = running.event_store.repository.get(job_id)
    assert job.callback_keys == {"lease-exhausted:1": "1"}
    attempts = running.settings.lease_max_attempts
    assert job_items(running, job_id) == [
        {"item_index": 1, "outcome": "failed", "error": f"no result after {attempts} leases"}
    ]
    assert job_row(running, job_id)["status"] == "running"


def test_an_exhausted_last_item_ends_the_job_and_the_saga_settles_it(running, scheduler, user_id):
    job_id = queued(running, user_id, items=2)
    report(running, job_id, 0)
    settle(running)
    exhaust_lease(running, job_id, 1)
    fired = scheduler.fire_due()
    settle(running)
    assert fired == 1
    row = job_row(running, job_id)
    assert (row["status"], row["succeeded_items"], row["failed_items"]) == ("done", 1, 1)
    assert available(running, user_id) == 100 - COST
    assert [(r["kind"], r["delta"]) for r in ledger(running, user_id)[-2:]] == [
        ("commit", 0),
        ("refund", COST),
    ]


def test_an_exhausted_lease_is_failed_at_a_now_past_its_expiry(running, scheduler, user_id):
    job_id = queued(running, user_id, items=1)
    settle(running)
    exhaust_lease(running, job_id, 0, expire_last=False)  # the last lease runs for 60 s
    fired = scheduler.fire_due(now=datetime.now(UTC) + timedelta(seconds=120))
    assert fired == 1
