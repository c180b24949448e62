"""Connections held at rest: `chronicle serve` / `chronicle api` started, then pg_stat_activity.

    .venv/bin/python -m bench.connections                       # serve, then --workers 3
    .venv/bin/python -m bench.connections --command api --workers 1

A fresh embedded PostgreSQL (400 connections, so that nothing is refused while counting) is
started in a temporary directory, migrated, and each configuration is served on it with
`CHRONICLE_DATABASE_URL`; once every API process answered and a few seconds passed, the
client backends on the database are counted (this script's own connection left out).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from eventstore.database import Database
from eventstore.migrate import migrate

COUNT = (
    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
    "AND datname = current_database() AND pid <> pg_backend_pid()"
)


def held_at_rest(dsn: str, data_dir: Path, command: str, workers: int, settle: float) -> int:
    """Connections held by ``chronicle <command> --workers <workers>`` once it serves."""
    port = 18000 + workers
    env = {
        **os.environ,
        "CHRONICLE_DATABASE_URL": dsn,
        "CHRONICLE_DATA_DIR": str(data_dir),
        "CHRONICLE_PORT": str(port),
    }
    log = data_dir / f"{command}-{workers}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", command, "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        deadline = time.monotonic() + 120
        while log.read_text().count("Application startup complete") < workers:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{command} --workers {workers} did not start:\n{log.read_text()}")
            time.sleep(0.2)
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).raise_for_status()
        time.sleep(settle)  # the projectors connect and catch up, the pools settle
        with psycopg.connect(dsn) as conn:
            row = conn.execute(COUNT).fetchone()
        return int(row[0]) if row else 0
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--command", choices=["serve", "api"], default="serve")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--settle", type=float, default=5.0, help="seconds before counting")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="chronicle-connections-"))
    with Database(None, root, max_connections=400) as db:
        migrate(db.dsn)
        for workers in args.workers:
            held = held_at_rest(db.dsn, root, args.command, workers, args.settle)
            print(f"chronicle {args.command} --workers {workers}: {held} connections at rest")


if __name__ == "__main__":
    main()
