"""Job: its state machine from creation to its end, the credits it consumes, and the
deadlines that cancel a job still waiting for its upload or fail a stalled one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import IllegalTransition, InvalidCommand
from domain.job import MAX_ITEMS, Job
from tests.unit.jobs import STATES, event_names, job_in, new_job

LEGAL = {
    ("created", "confirm_upload"),
    ("uploaded", "execute"),
    ("created", "cancel"),
    ("uploaded", "cancel"),
    ("queued", "cancel"),
    ("running", "cancel"),
}
ACTIONS = {
    "confirm_upload": lambda job: job.confirm_upload(),
    "execute": lambda job: job.execute(),
    "cancel": lambda job: job.cancel("changed my mind"),
}
ILLEGAL = [(s, a) for s in STATES for a in ACTIONS if (s, a) not in LEGAL]


def test_create_reserves_cost_times_items() -> None:
    job = new_job(items=4, cost=3)

    assert (job.status, job.reserved, job.total_items, job.reported_items) == ("created", 12, 4, 0)


@pytest.mark.parametrize(
    ("items", "cost"), [(0, 1), (True, 1), (2, -1), ("2", 1), (MAX_ITEMS + 1, 1)]
)
def test_create_refuses_invalid_arguments(items: int, cost: int) -> None:
    with pytest.raises(InvalidCommand):
        Job.create(uuid4(), uuid4(), "upscale", items, cost)


def test_upload_keys_are_under_the_user_and_the_job() -> None:
    job = new_job(items=2)

    assert job.upload_keys == [f"uploads/{job.user_id}/{job.id}/{i}" for i in (0, 1)]


def test_create_refuses_an_empty_preset() -> None:
    with pytest.raises(InvalidCommand):
        Job.create(uuid4(), uuid4(), " ", 1, 1)


def test_confirm_upload_moves_a_created_job_to_uploaded() -> None:
    job = new_job()

    job.confirm_upload()

    assert (job.status, event_names(job)[-1]) == ("uploaded", "UploadConfirmed")


def test_execute_moves_an_uploaded_job_to_queued() -> None:
    job = job_in("uploaded")

    job.execute()

    assert (job.status, event_names(job)[-1]) == ("queued", "Queued")


@pytest.mark.parametrize("status", ["created", "uploaded", "queued", "running"])
def test_cancel_is_allowed_until_the_job_finishes(status: str) -> None:
    job = job_in(status)

    job.cancel("  changed my mind  ")

    assert (job.status, job.reason, event_names(job)[-1]) == (
        "canceled",
        "changed my mind",
        "Canceled",
    )


def test_cancel_needs_a_reason() -> None:
    job = new_job()

    with pytest.raises(InvalidCommand):
        job.cancel(" ")


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_illegal_transitions_are_refused_without_an_event(status: str, action: str) -> None:
    job = job_in(status)
    events_before = len(job.pending_events)

    with pytest.raises(IllegalTransition) as refused:
        ACTIONS[action](job)

    assert f"'{status}'" in refused.value.message and action in refused.value.message
    assert (job.status, len(job.pending_events)) == (status, events_before)


def test_execute_before_upload_names_the_state_and_the_action() -> None:
    job = new_job()

    with pytest.raises(IllegalTransition, match=f"job {job.id} is 'created'; execute needs"):
        job.execute()


@pytest.mark.parametrize("status", ["created", "uploaded"])
def test_item_result_before_execute_is_refused(status: str) -> None:
    job = job_in(status)

    with pytest.raises(IllegalTransition, match="record_item_result"):
        job.record_item_result(0, "succeeded", "key-0")


@pytest.mark.parametrize("status", ["done", "failed"])
def test_new_item_result_on_a_finished_job_is_refused(status: str) -> None:
    job = job_in(status)

    with pytest.raises(IllegalTransition):
        job.record_item_result(0, "succeeded", "another-key")


def test_first_item_result_starts_a_queued_job() -> None:
    job = job_in("queued")

    job.record_item_result(0, "succeeded", "key-0", result_key="results/0.png")

    assert job.status == "running"
    assert event_names(job)[-2:] == ["Started", "ItemSucceeded"]


def test_reporting_every_item_finishes_the_job_done() -> None:
    job = job_in("queued", items=2)

    job.record_item_result(0, "succeeded", "key-0")
    job.record_item_result(1, "succeeded", "key-1")

    assert (job.status, event_names(job)[-1]) == ("done", "Finished")
    assert job.pending_events[-1].succeeded == 2  # type: ignore[attr-defined]


def test_a_job_whose_items_all_failed_ends_failed() -> None:
    job = job_in("queued", items=2)

    job.record_item_result(0, "failed", "key-0", error="out of memory")
    job.record_item_result(1, "failed", "key-1", error="out of memory")

    assert (job.status, job.succeeded_items, job.failed_items) == ("failed", 0, 2)


def test_partial_success_ends_done_with_failed_items_counted() -> None:
    job = job_in("queued", items=3)

    job.record_item_result(0, "succeeded", "key-0")
    job.record_item_result(1, "failed", "key-1", error="bad input")
    job.record_item_result(2, "succeeded", "key-2")

    assert (job.status, job.succeeded_items, job.failed_items, job.reported_items) == (
        "done",
        2,
        1,
        3,
    )


def test_a_done_job_consumes_cost_per_succeeded_item() -> None:
    job = job_in("queued", items=3)
    for index, outcome in enumerate(["succeeded", "failed", "succeeded"]):
        job.record_item_result(index, outcome, f"key-{index}")

    assert job.consumed_credits == 2 * 2


def test_a_canceled_job_consumes_nothing() -> None:
    job = job_in("running")

    job.cancel("changed my mind")

    assert job.consumed_credits == 0


def test_expire_upload_cancels_a_job_still_waiting_for_its_upload() -> None:
    job = new_job()

    expired = job.expire_upload()

    assert (expired, job.status, job.reason) == (True, "canceled", "upload deadline passed")


@pytest.mark.parametrize("status", ["uploaded", "queued", "running", "done", "failed", "canceled"])
def test_expire_upload_leaves_a_job_that_moved_on(status: str) -> None:
    job = job_in(status)
    events = len(job.pending_events)

    assert (job.expire_upload(), job.status, len(job.pending_events)) == (False, status, events)


def test_expire_upload_twice_records_once() -> None:
    job = new_job()
    job.expire_upload()
    events = len(job.pending_events)

    assert (job.expire_upload(), len(job.pending_events)) == (False, events)


def test_expire_stalled_fails_a_running_job_without_recent_progress() -> None:
    job = job_in("running")

    expired = job.expire_stalled(datetime.now(UTC))

    assert (expired, job.status, job.reason, event_names(job)[-1]) == (
        True,
        "failed",
        "stalled",
        "Stalled",
    )


def test_expire_stalled_spares_a_job_with_later_progress() -> None:
    job = job_in("running")
    before = job.last_progress_at - timedelta(seconds=1)  # type: ignore[operator]

    assert (job.expire_stalled(before), job.status) == (False, "running")


@pytest.mark.parametrize("status", ["created", "uploaded", "queued", "done", "failed", "canceled"])
def test_expire_stalled_leaves_a_job_that_is_not_running(status: str) -> None:
    job = job_in(status)

    assert (job.expire_stalled(datetime.now(UTC)), job.status) == (False, status)


def test_expire_stalled_twice_records_once() -> None:
    job = job_in("running")
    job.expire_stalled(datetime.now(UTC))
    events = len(job.pending_events)

    assert (job.expire_stalled(datetime.now(UTC)), len(job.pending_events)) == (False, events)


def test_expire_stalled_refuses_a_naive_datetime() -> None:
    job = job_in("running")

    with pytest.raises(InvalidCommand):
        job.expire_stalled(datetime.now())
