"""The benchmark's PostgreSQL: a fresh embedded server, or a scratch database on a given one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
from psycopg.conninfo import make_conninfo

from eventstore.database import Database, drop_database, ensure_database
from eventstore.migrate import migrate

# A fresh embedded server admits this many: `chronicle serve` at its default 32 threads plans 102
# connections (README, "Connections"), more than PostgreSQL's default 100 admit.
EMBEDDED_MAX_CONNECTIONS = 200
SETTINGS = ("server_version", "fsync", "synchronous_commit", "shared_buffers", "max_connections")


@contextmanager
def scratch_database(server_dsn: str | None) -> Iterator[str]:
    """The dsn of a migrated, empty database that is dropped (or whose server stops) on exit."""
    with tempfile.TemporaryDirectory(prefix="chronicle-bench-") as tmp:
        with Database(server_dsn, Path(tmp), max_connections=EMBEDDED_MAX_CONNECTIONS) as db:
            if db.embedded:
                migrate(db.dsn)
                yield db.dsn
                return
            name = f"chronicle_bench_{uuid4().hex[:12]}"
            ensure_database(db.dsn, name)
            try:
                dsn = make_conninfo(db.dsn, dbname=name)
                migrate(dsn)
                yield dsn
            finally:
                drop_database(db.dsn, name)


def describe(dsn: str) -> dict[str, str]:
    """The server settings that bound write throughput, and this machine's cores."""
    with psycopg.connect(dsn) as conn:
        found = {name: str(scalar(conn, f"SHOW {name}")) for name in SETTINGS}
    found["cpu_count"] = str(os.cpu_count())
    found["usable_cores"] = str(len(os.sched_getaffinity(0)))
    return found


def wait_for_connections(app: Any, seconds: float = 30) -> None:
    """Wait until ``app``'s event store pool holds its connections, so no run pays for them."""
    app.recorder.datastore.pool.wait(seconds)


def scalar(conn: psycopg.Connection[Any], query: Any) -> Any:
    """The first column of the first row that ``query`` returns."""
    row = conn.execute(query).fetchone()
    if row is None:
        raise AssertionError(f"no row from {query!r}")
    return row[0]
