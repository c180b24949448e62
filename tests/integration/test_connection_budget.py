"""A configuration that cannot fit the server's max_connections refuses to start, naming why."""

import shutil
import tempfile
from pathlib import Path

import pytest

from eventstore.database import Database
from eventstore.migrate import migrate
from tests.integration.test_cli_database import chronicle


@pytest.fixture(scope="module")
def small_server():
    """A throwaway embedded PostgreSQL admitting 30 connections, migrated."""
    root = Path(tempfile.mkdtemp(prefix="chronicle-budget-"))  # the server runs as its user
    try:
        with Database(None, root, max_connections=30) as db:
            migrate(db.dsn)
            yield db.dsn, root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_serve_refuses_to_start_when_its_connections_cannot_fit(small_server):
    dsn, root = small_server

    done = chronicle("serve", "--workers", "2", database_url=dsn, data_dir=str(root), port="1")

    assert done.returncode == 2, done.stderr
    # 2 × (2 + 2 × 32 + 1) + 38 = 172, against 30 - 3 reserved - 5 for operators.
    assert "can hold 172 database connections" in done.stderr
    assert "admits 22 (max_connections 30 less 3 reserved" in done.stderr
    assert "CHRONICLE_THREADS=" not in done.stderr  # not even one thread per process fits
    assert "raise the server's max_connections to 180" in done.stderr


def test_api_refuses_naming_the_threads_that_would_fit(small_server):
    dsn, root = small_server

    done = chronicle("api", database_url=dsn, data_dir=str(root), port="1", threads="16")

    assert done.returncode == 2, done.stderr
    # One process of t threads holds 2 + 2t + 1: t = 9 gives 21 of the 22 admitted.
    assert "CHRONICLE_THREADS=9 would fit" in done.stderr
