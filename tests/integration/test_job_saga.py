"""The credits saga survives being killed mid-way: every job settled once, balances exact."""

import uuid
from collections import Counter

import psycopg

from domain.commands import job as jobs
from domain.commands import usercredits as credits
from domain.usercredits import UserCredits
from tests.fakes import SHIPPED, STORED
from tests.integration.crash import kill_while_advancing, run_until
from tests.integration.folds import all_events, fold_user_summaries
from tests.integration.test_projections import head

START = 100


def finished_jobs(executor, users=40):
    """Per user: one job done with 2 of 3 items, one failed, one canceled; no saga running."""
    expected = {}
    for _ in range(users):
        user_id = uuid.uuid4()
        executor.execute(credits.OpenAccount(user_id, "pro", START))
        spent = 0
        for outcomes in (["succeeded", "succeeded", "failed"], ["failed", "failed"], None):
            job_id = uuid.uuid4()
            count = len(outcomes) if outcomes else 2
            executor.execute(jobs.CreateJob(job_id, user_id, "upscale-4x", count, SHIPPED))
            if outcomes is None:
                executor.execute(jobs.CancelJob(job_id, user_id, "changed my mind"))
                continue
            executor.execute(jobs.ConfirmUpload(job_id, user_id, STORED))
            executor.execute(jobs.ExecuteJob(job_id, user_id))
            for index, outcome in enumerate(outcomes):
                executor.execute(jobs.RecordItemResult(job_id, index, outcome, f"k{index}"))
            spent += 2 * outcomes.count("succeeded")
        expected[user_id] = START - spent
    return expected


def saga_position(dsn):
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT position FROM projection_position WHERE name = 'job_settlement'")
        found = row.fetchone()
        return found[0] if found else 0


def test_a_saga_killed_mid_way_settles_every_job_exactly_once(executor, app, clean_dsn):
    expected = finished_jobs(executor)
    last = head(clean_dsn)
    kills_mid_way = kill_while_advancing(clean_dsn, lambda: saga_position(clean_dsn), last)
    assert kills_mid_way >= 1, "the saga finished before it could be killed"
    run_until(clean_dsn, lambda: saga_position(clean_dsn), lambda: head(clean_dsn))

    settlements = Counter(
        e.job_id
        for _, e in all_events(app)
        if isinstance(e, UserCredits.Committed | UserCredits.RolledBack)
    )
    assert len(settlements) == 3 * len(expected) and set(settlements.values()) == {1}
    folded = fold_user_summaries(app)
    for user_id, balance in expected.items():
        account = app.repository.get(user_id)
        assert (account.available, account.reserved, account.active_jobs) == (balance, 0, 0)
        assert folded[user_id]["credits"] == balance
