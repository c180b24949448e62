"""A job of 10,000 items completes, and reloads from a snapshot plus a short tail."""

import threading
import time
import uuid

from eventsourcing.application import project_aggregate
from eventsourcing.domain import Snapshot

from domain.commands import job as jobs
from domain.commands import usercredits as credits
from domain.job import Job
from eventstore.application import open_application
from tests.fakes import SHIPPED, STORED

ITEMS = 10_000


def test_a_ten_thousand_item_job_completes_and_reloads_quickly(executor, app, clean_dsn, capsys):
    user_id, job_id = uuid.uuid4(), uuid.uuid4()
    executor.execute(credits.OpenAccount(user_id, "pro", ITEMS))
    executor.execute(jobs.CreateJob(job_id, user_id, "bulk-tagging", ITEMS, SHIPPED))
    executor.execute(jobs.ConfirmUpload(job_id, user_id, STORED))
    executor.execute(jobs.ExecuteJob(job_id, user_id))

    def report(worker: int) -> None:
        for index in range(worker, ITEMS, 8):
            outcome = "failed" if index % 100 == 0 else "succeeded"
            executor.execute(jobs.RecordItemResult(job_id, index, outcome, f"cb-{index}"))

    workers = [threading.Thread(target=report, args=(n,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    executor.close()  # snapshots are stored in the background; closing flushes them
    fresh = open_application(clean_dsn, pool_size=1)
    try:
        (head,) = fresh.recorder.select_events(job_id, desc=True, limit=1)
        (snapshot,) = fresh.snapshots.get(job_id, desc=True, limit=1)
        loading: list[object] = []

        def project(job, events):
            loading.extend(events)
            return project_aggregate(job, loading)

        started = time.perf_counter()
        loaded = fresh.repository.get(job_id, projector_func=project)
        seconds = time.perf_counter() - started
    finally:
        fresh.close()
    assert isinstance(loaded, Job) and loaded.status == "done"
    assert (loaded.succeeded_items, loaded.failed_items) == (ITEMS - 100, 100)
    # Every event is stored (4 before the first item, one per item, one Finished) and loaded.
    assert loaded.version == head.originator_version == ITEMS + 5
    # The load starts from the latest snapshot and replays only the events stored after it.
    assert isinstance(loading[0], Snapshot)
    assert loading[0].originator_version == snapshot.originator_version
    replayed = loading[1:]
    assert [e.originator_version for e in replayed] == list(
        range(snapshot.originator_version + 1, head.originator_version + 1)
    )
    assert len(replayed) < Job.snapshot_interval
    with capsys.disabled():
        print(
            f"\n  loading the finished {ITEMS}-item job (version {loaded.version}, snapshot at "
            f"{snapshot.originator_version}, {len(replayed)} events replayed) took "
            f"{seconds * 1000:.1f} ms"
        )
