"""A job of 10,000 items completes, and reloads from a snapshot plus a short tail."""

import threading
import time
import uuid

from domain.commands import job as jobs
from domain.commands import usercredits as credits
from domain.job import Job
from eventstore.application import open_application

ITEMS = 10_000


def test_a_ten_thousand_item_job_completes_and_reloads_quickly(executor, app, clean_dsn, capsys):
    user_id, job_id = uuid.uuid4(), uuid.uuid4()
    executor.execute(credits.open_account(user_id, "pro", ITEMS))
    executor.execute(jobs.create_job(job_id, user_id, "bulk-tagging", ITEMS, 1))
    executor.execute(jobs.confirm_upload(job_id, user_id))
    executor.execute(jobs.execute_job(job_id, user_id))

    def report(worker: int) -> None:
        for index in range(worker, ITEMS, 8):
            outcome = "failed" if index % 100 == 0 else "succeeded"
            executor.execute(jobs.record_item_result(job_id, index, outcome, f"cb-{index}"))

    workers = [threading.Thread(target=report, args=(n,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    executor.close()  # snapshots are stored in the background; closing flushes them
    fresh = open_application(clean_dsn, pool_size=1)
    try:
        started = time.perf_counter()
        loaded = fresh.repository.get(job_id)
        seconds = time.perf_counter() - started
        snapshot = list(fresh.snapshots.get(job_id, desc=True, limit=1))[0]
    finally:
        fresh.close()
    assert isinstance(loaded, Job) and loaded.status == "done"
    assert (loaded.done_items, loaded.failed_items) == (ITEMS - 100, 100)
    assert loaded.version - snapshot.originator_version < Job.snapshot_interval
    with capsys.disabled():
        print(
            f"\n  loading the finished {ITEMS}-item job (version {loaded.version}, snapshot at "
            f"{snapshot.originator_version}) took {seconds * 1000:.1f} ms"
        )
