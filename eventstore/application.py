"""The one eventsourcing Application that owns every aggregate, opened on PostgreSQL."""

import math
import types
from typing import Any

from eventsourcing.application import Application
from psycopg.conninfo import conninfo_to_dict

from eventstore import topics  # noqa: F401  (pins stored names before anything loads)
from eventstore.connections import watch_connects
from eventstore.database import IDLE_SECONDS, RECONNECT_SECONDS, check_connection


class Chronicle(Application):
    """All of Chronicle's aggregates, stored in ``chronicle_events`` (the name is schema)."""

    name = "chronicle"
    is_snapshotting_enabled = True


def library_env(dsn: str, *, pool_size: int, wait_seconds: float = 3.0) -> dict[str, str]:
    """The eventsourcing environment for ``dsn``: PostgreSQL, no table creation.

    The pool opens one connection and grows to ``pool_size`` only under load (the library
    calls its minimum the pool size and the rest the overflow).

    While the database is down a command fails after ``wait_seconds`` for a connection
    (the library calls that wait its connect timeout), and connections are checked when
    taken, so that those a restart broke are replaced instead of failing a command.
    """
    params = conninfo_to_dict(dsn)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": "eventstore.recorder:IdempotentRecorder",
        "POSTGRES_DBNAME": str(params.get("dbname", "postgres")),
        "POSTGRES_HOST": str(params.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(params.get("port", "5432")),
        "POSTGRES_USER": str(params.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(params.get("password", "")),
        "POSTGRES_POOL_SIZE": "1",
        "POSTGRES_MAX_OVERFLOW": str(max(0, pool_size - 1)),
        "POSTGRES_CONNECT_TIMEOUT": str(max(1, math.ceil(wait_seconds))),
        "POSTGRES_PRE_PING": "y",
        "CREATE_TABLE": "n",
    }


def open_application(dsn: str, *, pool_size: int = 8, wait_seconds: float = 3.0) -> Chronicle:
    """The application on the database of ``dsn`` (migrations must have run)."""
    app = Chronicle(env=library_env(dsn, pool_size=pool_size, wait_seconds=wait_seconds))
    _fail_fast(app)
    return app


def _fail_fast(app: Chronicle) -> None:
    """While the database is down, let a command fail within one pool wait, and recover soon.

    None of this is settable through the library's environment: its reads retry ten times,
    each after a full pool wait (half a minute for a command that loads an aggregate); its
    pool retries in the background with a backoff that doubles for minutes after an outage;
    and its pre-ping, after a restart, drops the broken connections one a second.
    """
    recorders: list[Any] = [app.recorder, app.snapshots.recorder if app.snapshots else None]
    for recorder in filter(None, recorders):
        once = getattr(type(recorder).select_events, "__wrapped__", None)
        if once is not None:  # the library's @retry keeps the undecorated function there
            recorder.select_events = types.MethodType(once, recorder)
        pool = recorder.datastore.pool
        pool.reconnect_timeout = RECONNECT_SECONDS
        pool._check = check_connection  # POSTGRES_PRE_PING's check, which can only ping
        pool.max_idle = IDLE_SECONDS  # the library's ten minutes hold a burst's connections long
        watch_connects(pool, "event store")
