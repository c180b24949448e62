"""``chronicle migrate`` and ``chronicle projections status`` on a database nothing has touched."""

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

from eventstore.database import drop_database, ensure_database
from tests.conftest import server_dsn

ROOT = Path(__file__).parents[2]
READ_MODELS = ("user_summary", "credit_ledger", "jobs", "rules")


def chronicle(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run the ``chronicle`` command with only the given CHRONICLE_ settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CHRONICLE_")}
    env.update({f"CHRONICLE_{name.upper()}": value for name, value in settings.items()})
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def fresh_dsn(dsn):
    """A database just created on the server of ``dsn``: no table at all."""
    name = f"chronicle_fresh_{uuid.uuid4().hex[:10]}"
    ensure_database(server_dsn(dsn), name)
    yield psycopg.conninfo.make_conninfo(dsn, dbname=name)
    drop_database(server_dsn(dsn), name)


@pytest.fixture
def data_dir():
    """An empty data directory (not under pytest's 0700 temp root: the server runs as its user)."""
    path = Path(tempfile.mkdtemp(prefix="chronicle-cli-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def tables(dsn):
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {row[0] for row in rows}


def test_migrate_builds_the_tables_of_a_fresh_configured_database(fresh_dsn, data_dir):
    done = chronicle("migrate", database_url=fresh_dsn, data_dir=str(data_dir))

    assert done.returncode == 0, done.stderr
    assert "migrations applied" in done.stdout
    assert {"alembic_version", "chronicle_events", "projection_position"} <= tables(fresh_dsn)
    assert not (data_dir / "pg").exists()  # a configured database starts no embedded one


def test_status_lists_every_read_model_on_a_freshly_migrated_database(fresh_dsn, data_dir):
    chronicle("migrate", database_url=fresh_dsn, data_dir=str(data_dir))

    done = chronicle("projections", "status", database_url=fresh_dsn, data_dir=str(data_dir))

    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.splitlines()[1:] if line.strip()}
    assert set(READ_MODELS) <= listed, done.stdout


def test_migrate_then_status_on_a_fresh_embedded_data_dir(data_dir):
    migrated = chronicle("migrate", data_dir=str(data_dir))
    status = chronicle("projections", "status", data_dir=str(data_dir))

    assert migrated.returncode == 0, migrated.stderr
    assert "migrations applied" in migrated.stdout
    assert (data_dir / "pg" / "PG_VERSION").is_file()
    assert status.returncode == 0, status.stderr
    listed = {line.split()[0] for line in status.stdout.splitlines()[1:] if line.strip()}
    assert set(READ_MODELS) <= listed, status.stdout
