"""Korean search and LC_CTYPE: databases are made UTF-8; Korean terms match literally anyway."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from adapters.search import PostgresSearchIndex, SearchDocument
from eventstore.database import drop_database, read_pool
from eventstore.migrate import migrate
from tests.conftest import server_dsn

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import sys, psycopg
from pathlib import Path
from eventstore.database import Database
with Database(None, Path(sys.argv[1])) as db, psycopg.connect(db.dsn, autocommit=True) as conn:
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    print(conn.execute("SELECT show_trgm('가나다') <> '{}'").fetchone()[0])
"""


def test_the_embedded_database_sees_hangul_even_when_started_under_lc_all_c():
    data_dir = tempfile.mkdtemp(prefix="chronicle-test-locale-")
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    try:
        probe = subprocess.run(
            [sys.executable, "-c", PROBE, data_dir],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    assert (probe.returncode, probe.stdout.strip()) == (0, "True"), probe.stderr


@pytest.fixture
def c_ctype_dsn(dsn):
    """A migrated database whose LC_CTYPE is C, where pg_trgm ignores Hangul."""
    name = f"chronicle_c_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_dsn(dsn), autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    database_dsn = psycopg.conninfo.make_conninfo(dsn, dbname=name)
    migrate(database_dsn)
    yield database_dsn
    drop_database(server_dsn(dsn), name)


def test_korean_terms_match_literally_where_trigrams_ignore_hangul(c_ctype_dsn):
    with read_pool(c_ctype_dsn, size=1, wait_seconds=10) as pool:
        index = PostgresSearchIndex(pool)
        index.ensure()
        index.upsert(
            SearchDocument(
                id=uuid.uuid4(),
                version=1,
                position=1,
                title="해외여행 성향 테스트",
                description="",
                tags=(),
                thumbnail=None,
                updated_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )

        found = [hit.title for hit in index.search("여행", limit=5)]

    assert (index.hangul_trigrams, found) == (False, ["해외여행 성향 테스트"])
