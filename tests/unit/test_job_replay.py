"""Job: timestamps, status and state after replay and from snapshots, a ten-thousand-item
job, and events and snapshots as an older version of the class stored them."""

from __future__ import annotations

import json

import pytest
from eventsourcing.domain import Snapshot

from domain.job import Job
from domain.jobstatus import JobStatus
from tests.unit.jobs import in_memory_app, job_in


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
