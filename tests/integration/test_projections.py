"""Projectors on real PostgreSQL: exactly once, in order, never past a late commit, one active;
a poison event stops its projection alone, with a status, until resumed."""

import threading
from uuid import uuid4

import psycopg

from domain.commands import usercredits as credits
from eventstore.application import open_application
from projections.engine.reactors import ReactorRunner
from projections.engine.runner import ProjectionRunner, read_position
from projections.engine.watcher import LogWatcher
from projections.jobs.settlement import JobSettlement
from projections.registry import all_projections
from tests.integration.crash import kill_while_advancing, run_until
from tests.integration.folds import fold_ledger_counts, fold_user_summaries

NAMES = ["user_summary", "credit_ledger", "jobs", "rules", "job_settlement"]


def make_history(executor, users=20, jobs=10):
    """Grants, reservations, commits, rollbacks and rule slots on ``users`` users."""
    ids = [uuid4() for _ in range(users)]
    for user_id in ids:
        executor.execute(credits.OpenAccount(user_id, "pro", 100))
        executor.execute(credits.GrantCredits(user_id, 5, "welcome"))
        executor.execute(credits.TakeRuleSlot(user_id, "rule-1"))
        for n in range(jobs):
            executor.execute(credits.ReserveCredits(user_id, f"job-{n}", 3))
            if n % 3:
                executor.execute(credits.CommitCredits(user_id, f"job-{n}", n % 4))
            else:
                executor.execute(credits.RollbackCredits(user_id, f"job-{n}"))
    return ids


def read_models(dsn):
    with psycopg.connect(dsn) as conn:
        summaries = {
            row[0]: dict(
                zip(
                    [
                        "plan",
                        "credits",
                        "reserved_credits",
                        "active_jobs",
                        "max_concurrent_jobs",
                        "rule_slots_used",
                        "rule_slots_limit",
                    ],
                    row[1:],
                    strict=True,
                )
            )
            for row in conn.execute(
                "SELECT user_id, plan, credits, reserved_credits, active_jobs, "
                "max_concurrent_jobs, rule_slots_used, rule_slots_limit FROM user_summary"
            )
        }
        ledger = dict(conn.execute("SELECT kind, count(*) FROM credit_ledger GROUP BY kind"))
        balances = dict(
            conn.execute("SELECT user_id, sum(delta) FROM credit_ledger GROUP BY user_id")
        )
    return summaries, ledger, balances


def head(dsn):
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT coalesce(max(notification_id), 0) FROM chronicle_events"
        ).fetchone()[0]


def positions(dsn):
    with psycopg.connect(dsn) as conn:
        return {name: read_position(conn, name) for name in NAMES}


def assert_read_models_equal_the_fold(dsn, app):
    summaries, ledger, balances = read_models(dsn)
    expected = fold_user_summaries(app)
    assert summaries == expected
    assert ledger == fold_ledger_counts(app)
    assert balances == {user_id: row["credits"] for user_id, row in expected.items()}


class Runners:
    """The projection runner and the reactor runner, stopped together."""

    def __init__(self, *runners):
        self._runners = runners

    def stop(self):
        for runner in self._runners:
            runner.stop()


def start_runner(dsn, app, executor, batch_size=500):
    watcher = LogWatcher(dsn).start()
    projections = ProjectionRunner(
        dsn, app, all_projections(), watcher, batch_size=batch_size, poll_seconds=0.2
    ).start()
    reactors = ReactorRunner(dsn, app, [JobSettlement(executor)], watcher, poll_seconds=0.2).start()
    return Runners(projections, reactors), watcher


def test_read_models_equal_the_fold_over_the_events(executor, app, clean_dsn):
    make_history(executor)
    runner, watcher = start_runner(clean_dsn, app, executor, batch_size=37)
    try:
        assert watcher.wait_for_position(NAMES, head(clean_dsn), timeout=30)
    finally:
        runner.stop()
        watcher.stop()
    assert_read_models_equal_the_fold(clean_dsn, app)


def test_a_new_event_wakes_the_projector(executor, app, clean_dsn):
    runner, watcher = start_runner(clean_dsn, app, executor)
    try:
        position = executor.execute(credits.OpenAccount(uuid4(), "free", 3)).position
        assert watcher.wait_for_position(NAMES, position, timeout=10)
    finally:
        runner.stop()
        watcher.stop()


def test_a_projector_killed_between_batches_resumes_without_counting_twice(
    executor, app, clean_dsn
):
    make_history(executor, users=60, jobs=20)
    last = head(clean_dsn)

    def slowest():
        return min(positions(clean_dsn).values())

    kills_mid_way = kill_while_advancing(clean_dsn, slowest, last)
    assert kills_mid_way >= 1, "the projector finished before it could be killed"
    run_until(clean_dsn, slowest, lambda: last)
    assert_read_models_equal_the_fold(clean_dsn, app)


def test_a_projector_never_skips_an_event_committed_late(executor, app, clean_dsn):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 1))
    slow = psycopg.connect(clean_dsn)
    # A slower writer, as the event store writes: lock the table, insert, and hold the commit.
    late_id = uuid4()
    stored = app.mapper.to_stored_event(
        credits.UserCredits.open(late_id, "free", 2).collect_events()[0]
    )
    slow.execute("LOCK TABLE chronicle_events IN EXCLUSIVE MODE")
    (late_position,) = slow.execute(
        "INSERT INTO chronicle_events (originator_id, originator_version, topic, state) "
        "VALUES (%s, %s, %s, %s) RETURNING notification_id",
        (stored.originator_id, stored.originator_version, stored.topic, stored.state),
    ).fetchone()
    quick = threading.Thread(
        target=executor.execute, args=(credits.OpenAccount(uuid4(), "free", 3),)
    )
    quick.start()
    runner, watcher = start_runner(clean_dsn, app, executor)
    try:
        assert watcher.wait_for_position(NAMES, late_position - 1, timeout=10)
        assert not watcher.wait_for_position(NAMES, late_position, timeout=0.5)
        slow.commit()
        quick.join()
        assert watcher.wait_for_position(NAMES, head(clean_dsn), timeout=10)
    finally:
        slow.close()
        runner.stop()
        watcher.stop()
    summaries, _, _ = read_models(clean_dsn)
    assert late_id in summaries and len(summaries) == 3
    assert head(clean_dsn) > late_position


def test_a_second_runner_waits_as_a_standby_until_the_first_stops(executor, app, clean_dsn):
    first, first_watcher = start_runner(clean_dsn, app, executor)
    other_app = open_application(clean_dsn, pool_size=2)
    second, second_watcher = start_runner(clean_dsn, other_app, executor)
    try:
        position = executor.execute(credits.OpenAccount(uuid4(), "free", 3)).position
        assert first_watcher.wait_for_position(NAMES, position, timeout=10)
        first.stop()
        first_watcher.stop()
        position = executor.execute(credits.OpenAccount(uuid4(), "free", 3)).position
        assert second_watcher.wait_for_position(NAMES, position, timeout=10)
    finally:
        second.stop()
        second_watcher.stop()
        other_app.close()
    assert_read_models_equal_the_fold(clean_dsn, app)
