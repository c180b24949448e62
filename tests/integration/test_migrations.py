"""Migrations build every table from an empty database, and take them down again."""

import uuid

import psycopg
import pytest

from eventstore.database import drop_database, ensure_database
from eventstore.migrate import downgrade, migrate
from tests.conftest import server_dsn

EXPECTED = {
    "admin_sessions",
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
    "dead_letters",
    "test_search",
    "test_catalog",
    "test_stats",
    "audit_log",
    "test_embeddings",
    "test_embedding_models",
    "chat_rooms",
    "chat_members",
    "chat_messages",
    "upload_sessions",
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


def leftovers(dsn):
    """Every relation (index, sequence, view) and function in ``public`` beyond alembic's own."""
    with psycopg.connect(dsn) as conn:
        relations = conn.execute(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND relname NOT LIKE 'alembic_version%'"
        )
        functions = conn.execute(
            "SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'public'"
        )
        return {r[0] for r in relations} | {r[0] for r in functions}


def head_revision(dsn):
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]


def test_migrations_create_exactly_the_known_tables_from_empty(empty_dsn):
    migrate(empty_dsn)

    assert tables(empty_dsn) == EXPECTED  # a new table is added here, on purpose


def test_migrating_again_changes_nothing(empty_dsn):
    migrate(empty_dsn)
    before = (leftovers(empty_dsn), head_revision(empty_dsn))

    migrate(empty_dsn)

    assert (leftovers(empty_dsn), head_revision(empty_dsn)) == before
    assert len(before[1]) == 1  # one head: the migrations never branch


def test_migrations_downgrade_to_empty_and_upgrade_again(empty_dsn):
    migrate(empty_dsn)
    downgrade(empty_dsn)
    assert tables(empty_dsn) == set()
    assert leftovers(empty_dsn) == set()  # no index, sequence or function left behind
    migrate(empty_dsn)
    assert tables(empty_dsn) == EXPECTED


def test_the_keyword_index_has_no_pending_list(empty_dsn):
    """Searches never scan a pending list of new entries (migration 0018)."""
    migrate(empty_dsn)
    with psycopg.connect(empty_dsn) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.reloptions FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_am a ON a.oid = c.relam"
            " WHERE i.indrelid = 'test_search'::regclass AND a.amname = 'gin'"
        ).fetchall()

    assert len(rows) == 3
    assert all(options == ["fastupdate=off"] for _, options in rows), rows
