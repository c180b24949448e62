"""Job: its state machine, idempotent item results, progress, deadlines and replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Snapshot

from domain.errors import IdempotencyKeyReused, IllegalTransition, InvalidCommand
from domain.job import MAX_ERROR_REPORTED, MAX_ITEMS, Job
from domain.jobstatus import ItemReport, JobStatus

STATES = ["created", "uploaded", "queued", "running", "done", "failed", "canceled"]
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


def new_job(items: int = 3, cost: int = 2) -> Job:
    return Job.create(uuid4(), uuid4(), "upscale", items, cost)


def job_in(status: str, items: int = 3) -> Job:
    """A job brought to ``status`` through its commands."""
    job = new_job(items)
    if status == "canceled":
        job.cancel("changed my mind")
    if status in ("created", "canceled"):
        return job
    job.confirm_upload()
    if status != "uploaded":
        job.execute()
    if status in ("running", "done", "failed"):
        outcome = "failed" if status == "failed" else "succeeded"
        reported = items if status in ("done", "failed") else 1
        for index in range(reported):
            job.record_item_result(index, outcome, f"key-{index}")
    assert job.status == status
    return job


def event_names(job: Job) -> list[str]:
    return [type(e).__name__ for e in job.pending_events]


def in_memory_app() -> Application:
    return Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "y"}
    )


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


def test_results_keep_each_items_outcome() -> None:
    job = job_in("queued", items=2)

    job.record_item_result(0, "succeeded", "key-0", result_key="results/0.png")
    job.record_item_result(1, "failed", "key-1", error="bad input")

    assert job.results == {
        "0": ["succeeded", "results/0.png", None],
        "1": ["failed", None, "bad input"],
    }


def test_a_repeated_callback_records_once_and_answers_the_same() -> None:
    job = job_in("queued")
    first = job.record_item_result(0, "succeeded", "key-0")
    events = len(job.pending_events)

    repeat = job.record_item_result(0, "succeeded", "key-0")

    assert repeat == first == ItemReport(job.id, 0, "succeeded", "recorded")
    assert (len(job.pending_events), job.succeeded_items) == (events, 1)


def test_a_repeated_callback_on_a_finished_job_gets_the_recorded_answer() -> None:
    job = job_in("done")

    answer = job.record_item_result(1, "succeeded", "key-1")

    assert answer == ItemReport(job.id, 1, "succeeded", "recorded")


def test_a_second_key_for_a_reported_item_keeps_the_first_result() -> None:
    job = job_in("queued")
    job.record_item_result(0, "failed", "key-0", error="timeout")
    events = len(job.pending_events)

    answer = job.record_item_result(0, "succeeded", "retry-key-0")

    assert answer == ItemReport(job.id, 0, "failed", "already_reported")
    assert (len(job.pending_events), job.succeeded_items, job.failed_items) == (events, 0, 1)


def test_a_callback_key_reused_for_another_item_is_refused() -> None:
    job = job_in("queued")
    job.record_item_result(0, "succeeded", "key-0")

    with pytest.raises(IdempotencyKeyReused):
        job.record_item_result(1, "succeeded", "key-0")


@pytest.mark.parametrize("item_index", [-1, 3, True, "0"])
def test_an_item_index_out_of_range_is_refused(item_index: int) -> None:
    job = job_in("queued", items=3)

    with pytest.raises(InvalidCommand, match="item_index"):
        job.record_item_result(item_index, "succeeded", "key")


def test_an_unknown_outcome_is_refused() -> None:
    job = job_in("queued")

    with pytest.raises(InvalidCommand):
        job.record_item_result(0, "skipped", "key-0")


def test_a_canceled_job_acknowledges_and_ignores_callbacks() -> None:
    job = job_in("running")
    job.cancel("changed my mind")
    events = len(job.pending_events)

    answer = job.record_item_result(1, "succeeded", "key-1")

    assert answer == ItemReport(job.id, 1, "succeeded", "ignored")
    assert (len(job.pending_events), job.succeeded_items) == (events, 1)


def test_fail_item_records_a_failed_item_with_the_reason() -> None:
    job = job_in("running")

    job.fail_item(1, "lease expired 3 times", "lease-exhausted:1")

    assert job.results["1"] == ["failed", None, "lease expired 3 times"]


def test_a_long_worker_error_is_kept_shortened() -> None:
    job = job_in("running")

    job.record_item_result(1, "failed", "key-1", error="x" * 5000)

    assert len(job.results["1"][2]) == 1000


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


def test_timestamps_come_from_the_events() -> None:
    job = job_in("done", items=1)
    by_name = {type(e).__name__: e.timestamp for e in job.pending_events}

    assert (job.created_at, job.uploaded_at, job.queued_at, job.started_at, job.finished_at) == (
        by_name["Created"],
        by_name["UploadConfirmed"],
        by_name["Queued"],
        by_name["Started"],
        by_name["Finished"],
    )


def test_the_status_is_a_job_status_after_replay_and_from_a_snapshot() -> None:
    job = job_in("done", items=1)
    app = in_memory_app()
    app.save(job)

    replayed = app.repository.get(job.id)
    restored = Snapshot.take(replayed).mutate(None)

    assert replayed.status is JobStatus.DONE
    assert JobStatus(restored.status) is JobStatus.DONE and restored.ended


def test_a_ten_thousand_item_job_completes_and_replays_from_its_events() -> None:
    items = 10_000
    job = job_in("queued", items=items)
    for index in range(items):
        job.record_item_result(index, "failed" if index % 10 == 0 else "succeeded", f"k-{index}")
    app = in_memory_app()

    app.save(job)
    replayed = app.repository.get(job.id)

    assert (replayed.status, replayed.succeeded_items, replayed.failed_items) == (
        "done",
        9_000,
        1_000,
    )
    assert replayed == job


def test_a_snapshot_restores_the_same_state() -> None:
    job = job_in("running", items=5)
    job.collect_events()

    restored = Snapshot.take(job).mutate(None)

    assert restored == job


def test_a_stored_snapshot_restores_the_same_state() -> None:
    job = job_in("running", items=5)
    job.fail_item(1, "lease expired", "lease-exhausted:1")
    app = in_memory_app()
    app.save(job)

    app.take_snapshot(job.id)
    restored = app.repository.get(job.id)

    assert restored == job
    assert app.snapshots is not None and len(list(app.snapshots.get(job.id))) == 1


def test_a_worker_error_past_the_reported_bound_is_refused() -> None:
    job = job_in("running")

    with pytest.raises(InvalidCommand, match=f"{MAX_ERROR_REPORTED}"):
        job.record_item_result(1, "failed", "key-1", error="x" * (MAX_ERROR_REPORTED + 1))


@pytest.mark.parametrize("event_class", [Job.ItemSucceeded, Job.ItemFailed])
def test_an_item_event_stored_with_index_loads_with_item_index(event_class: type) -> None:
    job = job_in("queued", items=3)
    outcome = "failed" if event_class is Job.ItemFailed else "succeeded"
    job.record_item_result(2, outcome, "key-2")
    app = in_memory_app()
    (item_event,) = [e for e in job.pending_events if isinstance(e, event_class)]
    stored = app.mapper.to_stored_event(item_event)
    state = json.loads(stored.state)
    state["index"] = state.pop("item_index")  # as version 1 stored it
    del state["class_version"]
    v1 = type(stored)(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )

    loaded = app.mapper.to_domain_event(v1)

    assert (type(loaded), loaded.item_index) == (event_class, 2)


def test_a_snapshot_stored_with_done_items_restores_succeeded_items() -> None:
    job = job_in("running", items=3)
    snapshot = Snapshot.take(job)
    state = dict(snapshot.state)
    state["done_items"] = state.pop("succeeded_items")  # as version 1 stored it
    del state["class_version"]
    v1 = Snapshot(
        originator_id=snapshot.originator_id,
        originator_version=snapshot.originator_version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state=state,
    )

    restored = v1.mutate(None)

    assert (restored.succeeded_items, restored.reported_items) == (1, 1)
    assert not hasattr(restored, "done_items")
