"""Read replicas: queries read a real streaming standby, and min_position still reads your writes.

The standby's replay is paused to make its lag certain (no timing involved): a read waiting
for a position the standby has not replayed answers 503, whatever the primary has projected,
and the same read answers with the write once replay resumes.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg_pool import ConnectionPool

from api.app import create_app
from api.bootstrap import Services, services
from api.settings import Settings
from eventstore.database import Database
from eventstore.migrate import migrate
from projections.engine.watcher import ReplicaWatcher
from tests.conftest import TEST_SECRET, wait_until
from tests.e2e.flows import bearer, fund, lease, ready_job, report, sign_up
from tests.integration.standby import StandbyUnavailable, standby_of


@dataclass
class Replicated:
    primary: str
    replica: str


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replicated]:
    """A migrated embedded primary and a hot standby of it (skipped where none can start)."""
    data_dir = Path(tempfile.mkdtemp(prefix="chronicle-replica-"))
    try:
        with Database(None, data_dir) as db, ExitStack() as stack:
            migrate(db.dsn)
            try:
                replica = stack.enter_context(standby_of(db.dsn, data_dir / "standby"))
            except StandbyUnavailable as exc:
                pytest.skip(f"no standby of the embedded PostgreSQL here: {exc}")
            yield Replicated(db.dsn, replica)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def served(replicated: Replicated, tmp_path: Path) -> Iterator[Services]:
    """Every service on the primary, its queries on the standby, projectors running."""
    settings = Settings(
        data_dir=tmp_path,
        jwt_secret=TEST_SECRET,
        read_database_url=replicated.replica,
        public_base_url="http://testserver",  # the local store's upload URLs, to TestClient
    )
    with services(settings, replicated.primary, run_projections=True) as built:
        yield built


@pytest.fixture
def paused(replicated: Replicated) -> Iterator[psycopg.Connection]:
    """A connection to the standby with its WAL replay paused; replay resumes after the test."""
    with psycopg.connect(replicated.replica, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        wait_until(
            lambda: _replay_state(conn) == "paused",
            timeout=30,
            what="the standby's replay to pause",
        )
        try:
            yield conn
        finally:
            conn.execute("SELECT pg_wal_replay_resume()")


def _replay_state(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()
    return str(row[0]) if row else ""


def _in_recovery(pool: ConnectionPool[Any]) -> bool:
    with pool.connection() as conn:
        return bool(conn.execute("SELECT pg_is_in_recovery() AS standby").fetchone()["standby"])


def test_queries_read_the_standby_and_commands_the_primary(served):
    assert _in_recovery(served.reads)
    assert not _in_recovery(served.primary)
    assert isinstance(served.watcher, ReplicaWatcher)
    assert not isinstance(served.primary_watcher, ReplicaWatcher)


def test_a_read_at_a_position_the_standby_has_not_replayed_waits_for_it(served, paused):
    admin = bearer(served.tokens.issue("ann", "admin"))
    with TestClient(create_app(served)) as http:
        user_id, auth = sign_up(http)
        grant = http.post(
            f"/admin/users/{user_id}/credits", headers=admin, json={"amount": 7, "reason": "ryw"}
        ).raise_for_status()
        position = grant.json()["position"]
        assert served.primary_watcher.wait_for_position(["user_summary"], position, 30)
        served.settings.read_wait_seconds = 0.5
        behind = http.get("/me", headers=auth, params={"min_position": position})

        paused.execute("SELECT pg_wal_replay_resume()")
        served.settings.read_wait_seconds = 30
        me = http.get("/me", headers=auth, params={"min_position": position})

    assert behind.status_code == 503
    assert behind.json()["error"]["code"] == "projection_behind"
    assert me.status_code == 200
    assert me.json()["credits"] == grant.json()["credits"]


def test_a_position_beyond_the_primarys_head_is_still_refused_at_once(served):
    with TestClient(create_app(served)) as http:
        _, auth = sign_up(http)
        response = http.get("/me", headers=auth, params={"min_position": 10**12})

    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == "query.min_position"


def test_a_blocking_wait_sees_the_standby_catch_up(served, paused):
    admin = bearer(served.tokens.issue("ann", "admin"))
    with TestClient(create_app(served)) as http:
        user_id, _ = sign_up(http)
        grant = http.post(
            f"/admin/users/{user_id}/credits", headers=admin, json={"amount": 3, "reason": "ryw"}
        ).raise_for_status()
    position = grant.json()["position"]
    assert served.primary_watcher.wait_for_position(["user_summary"], position, 30)

    before = served.watcher.wait_for_position(["user_summary"], position, 0.2)
    paused.execute("SELECT pg_wal_replay_resume()")
    after = served.watcher.wait_for_position(["user_summary"], position, 30)

    assert not before
    assert after


def test_a_job_runs_to_its_end_with_its_reads_on_the_standby(served):
    admin = bearer(served.tokens.issue("ann", "admin"))
    worker = bearer(served.tokens.issue("gpu-1", "worker"))
    with TestClient(create_app(served)) as http:
        user_id, auth = sign_up(http)
        fund(http, admin, user_id, 10)
        job = ready_job(http, auth)  # uploads, queues, and reads it at the queueing's position
        queued = http.get(f"/jobs/{job['job_id']}", headers=auth)
        leased = lease(http, worker)  # leases and their holders are the primary's
        reports = [report(http, worker, item) for item in leased]
        last = max(r.json()["position"] for r in reports)
        done = http.get(f"/jobs/{job['job_id']}", headers=auth, params={"min_position": last})

    assert queued.status_code == 200 and queued.json()["status"] == "queued"
    assert [r.status_code for r in reports] == [200, 200, 200]
    assert done.status_code == 200 and done.json()["status"] == "done"


def test_without_a_replica_queries_and_waits_are_the_primarys(replicated, tmp_path):
    settings = Settings(data_dir=tmp_path, jwt_secret=TEST_SECRET)

    with services(settings, replicated.primary) as built:
        assert built.reads is built.primary
        assert built.watcher is built.primary_watcher
        assert not isinstance(built.watcher, ReplicaWatcher)
