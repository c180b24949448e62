"""Migrations build every table from an empty database, and take them down again."""

import uuid

import psycopg
import pytest

from eventstore.database import drop_database, ensure_database
from eventstore.migrate import downgrade, migrate
from tests.conftest import server_dsn

EXPECTED = {
    "chronicle_events",
    "chronicle_snapshots",
    "command_idempotency",
    "projection_position",
    "user_summary",
    "credit_ledger",
    "jobs_log",
    "job_items",
    "job_dispatch",
    "rules",
}


@pytest.fixture
def empty_dsn(dsn):
    name = f"chronicle_empty_{uuid.uuid4().hex[:10]}"
    ensure_database(server_dsn(dsn), name)
    yield psycopg.conninfo.make_conninfo(dsn, dbname=name)
    drop_database(server_dsn(dsn), name)


def tables(dsn):
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r[0] for r in rows} - {"alembic_version"}


def test_migrations_create_every_table_from_empty(empty_dsn):
    migrate(empty_dsn)
    assert EXPECTED <= tables(empty_dsn)


def test_migrations_downgrade_to_empty_and_upgrade_again(empty_dsn):
    migrate(empty_dsn)
    downgrade(empty_dsn)
    assert tables(empty_dsn) == set()
    migrate(empty_dsn)
    assert EXPECTED <= tables(empty_dsn)
