"""``chronicle projections rebuild``: new tables from position 0, an atomic switch under live
writes and reads, nothing lost or doubled at the switch, restartable after kill -9."""

import os
import re
import signal
import subprocess
import sys
import threading
from uuid import uuid4

import psycopg
import pytest
from psycopg_pool import ConnectionPool
from typer.testing import CliRunner

from api.cli import cli
from domain.commands import usercredits as credits
from projections.engine.rebuild import rebuild, shadow_positions
from projections.jobs.dispatch import lease
from projections.registry import projection_named, projection_status
from tests.conftest import TEST_SECRET, wait_until
from tests.integration.rebuilds import fresh_rows, index_names, rows, schemas_left
from tests.integration.test_leases import queue_job
from tests.integration.test_projections import assert_read_models_equal_the_fold, head, make_history

CREDITS = ("user_summary", "credit_ledger")


def caught_up(running, names):
    assert running.watcher.wait_for_position(list(names), head(running.dsn), 30)


class Traffic:
    """Grants on a few users and reads of the credit read models, until stopped; errors kept."""

    def __init__(self, running, users):
        self._running, self._users = running, users
        self._stop = threading.Event()
        self.acknowledged, self.reads, self.errors = 0, 0, []
        self._reads = ConnectionPool(running.dsn, min_size=2, max_size=2, open=True)
        self._threads = [threading.Thread(target=self._write, args=(u,)) for u in users] + [
            threading.Thread(target=self._read) for _ in range(2)
        ]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        self._reads.close()

    def _write(self, user_id):
        while not self._stop.is_set():
            try:
                self._running.executor.execute(credits.GrantCredits(user_id, 1, "traffic"))
                self.acknowledged += 1
            except Exception as exc:  # every failure is a finding
                self.errors.append(f"write: {exc!r}")

    def _read(self):
        while not self._stop.is_set():
            try:
                with self._reads.connection() as conn:  # prepared after a few uses
                    conn.execute("SELECT sum(credits) FROM user_summary").fetchone()
                    conn.execute("SELECT count(*) FROM credit_ledger WHERE delta > 0").fetchone()
                self.reads += 1
            except Exception as exc:
                self.errors.append(f"read: {exc!r}")


def test_a_rebuild_under_writes_and_reads_equals_a_fresh_projection(running):
    users = make_history(running.executor, users=6, jobs=4)
    indexes = index_names(running.dsn, CREDITS)

    with Traffic(running, users[:3]) as traffic:
        wait_until(lambda: traffic.acknowledged > 20 and traffic.reads > 20, what="traffic")
        done = [
            rebuild(running.dsn, running.event_store, projection_named(name), batch_size=25)
            for name in CREDITS
        ]
        after = traffic.acknowledged
        wait_until(lambda: traffic.acknowledged > after + 20, what="writes after the switch")

    assert traffic.errors == []
    assert all(d.applied >= 6 * 4 for d in done)  # the history at least, from position 0
    caught_up(running, CREDITS)
    assert_read_models_equal_the_fold(running.dsn, running.event_store)
    for name in CREDITS:
        assert fresh_rows(running.dsn, running.event_store, projection_named(name)) == {
            name: rows(running.dsn, name)
        }
    assert index_names(running.dsn, CREDITS) == indexes
    assert schemas_left(running.dsn) == {}
    with psycopg.connect(running.dsn) as conn:  # analyzed before serving: -1 means never
        known = conn.execute(
            "SELECT relname, reltuples > 0 FROM pg_class WHERE oid = ANY(%s::regclass[])",
            ([f"public.{name}" for name in CREDITS],),
        ).fetchall()
    assert dict(known) == {name: True for name in CREDITS}


def test_a_rebuild_keeps_the_leases_workers_hold(running):
    user_id = uuid4()
    running.executor.execute(credits.OpenAccount(user_id, "pro", 1000))
    job_id = queue_job(running, user_id, 4)
    leased = lease(running.reads, "gpu-7", limit=2, seconds=600, max_attempts=3)

    rebuild(running.dsn, running.event_store, projection_named("jobs"))

    with psycopg.connect(running.dsn) as conn:
        held = conn.execute(
            "SELECT item_index, leased_by, attempts FROM job_dispatch WHERE job_id = %s "
            "ORDER BY item_index",
            (job_id,),
        ).fetchall()
    taken = sorted(row["item_index"] for row in leased)
    assert len(taken) == 2 and len(held) == 4
    assert [(i, by, n) for i, by, n in held if i in taken] == [(i, "gpu-7", 1) for i in taken]
    assert all(by is None for i, by, _ in held if i not in taken)


def rebuild_process(dsn, name, batch_size):
    env = {**os.environ, "CHRONICLE_DATABASE_URL": dsn, "CHRONICLE_JWT_SECRET": TEST_SECRET}
    command = [sys.executable, "-m", "api.cli", "projections", "rebuild", name]
    return command + ["--batch-size", str(batch_size)], env


def test_a_killed_rebuild_leaves_the_serving_tables_and_resumes(running):
    make_history(running.executor, users=4, jobs=5)
    caught_up(running, ["audit_log"])
    serving = rows(running.dsn, "audit_log")
    command, env = rebuild_process(running.dsn, "audit_log", batch_size=7)

    # A reader holding the table keeps the rebuild from switching: it catches up, then waits.
    with psycopg.connect(running.dsn) as reader:
        reader.execute("SELECT count(*) FROM audit_log").fetchone()
        process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        try:
            last = head(running.dsn)
            with psycopg.connect(running.dsn, autocommit=True) as conn:
                wait_until(lambda: shadow_positions(conn).get("audit_log") == last, timeout=60)
            listed = {(r["name"], r["kind"]): r for r in projection_status(running.dsn)}
            assert listed["audit_log", "rebuild"]["state"] == "rebuilding"
            assert listed["audit_log", "projection"]["state"] == "active"
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        reader.rollback()

    assert rows(running.dsn, "audit_log") == serving  # untouched by the dead rebuild
    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    applied = int(re.search(r"(\d+) events applied", resumed.stdout).group(1))
    assert applied < head(running.dsn) / 2  # it went on from the shadow's position
    caught_up(running, ["audit_log"])
    expected = fresh_rows(running.dsn, running.event_store, projection_named("audit_log"))
    assert expected == {"audit_log": rows(running.dsn, "audit_log")} and expected["audit_log"]
    assert schemas_left(running.dsn) == {}


@pytest.mark.parametrize(
    ("name", "message"),
    [("job_settlement", "is a reactor"), ("nonesuch", "no projection is called 'nonesuch'")],
)
def test_rebuild_refuses_what_is_not_a_read_model(clean_dsn, name, message):
    env = {"CHRONICLE_DATABASE_URL": clean_dsn, "CHRONICLE_JWT_SECRET": TEST_SECRET}

    result = CliRunner().invoke(cli, ["projections", "rebuild", name], env=env)

    assert result.exit_code == 1 and message in result.output


def test_a_rebuild_outpaced_by_writes_still_switches(running):
    """Writes as fast as the rebuild: rounds of catching up stop shrinking, and the switch
    applies what is left under its lock instead of chasing the head for ever."""
    users = make_history(running.executor, users=3, jobs=3)
    batches = []

    def write_more_than_a_batch(position):
        batches.append(position)
        assert len(batches) < 500, "the rebuild never switched"
        for _ in range(15):  # each batch of 10 applied, 15 more events written
            running.executor.execute(credits.GrantCredits(users[0], 1, "outpace"))

    done = rebuild(
        running.dsn,
        running.event_store,
        projection_named("user_summary"),
        batch_size=10,
        progress=write_more_than_a_batch,
    )

    assert done.applied >= len(batches) * 10
    caught_up(running, ["user_summary"])
    assert fresh_rows(running.dsn, running.event_store, projection_named("user_summary")) == {
        "user_summary": rows(running.dsn, "user_summary")
    }
    assert schemas_left(running.dsn) == {}
