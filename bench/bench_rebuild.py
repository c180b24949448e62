"""Benchmark of ``chronicle projections rebuild`` on the credits read models, in one run.

A log of ``--events`` realistic events (``bench.historydata``) is rebuilt into ``user_summary``
and ``credit_ledger``; each rebuild's events/s is printed beside two figures measured on the
same log in the same run:
- read only: paging through the whole log without decoding or writing anything (the ceiling);
- one event per transaction: the projector applying one event and moving its position per
  transaction, as the library's runner does (on the first ``--baseline-events`` events).

Run from the repository root: ``.venv/bin/python -m bench.bench_rebuild [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import psycopg
from psycopg import sql

from bench.bench_commands import header
from bench.historydata import generate_events
from bench.server import scalar, scratch_database
from eventstore.application import open_application
from projections.engine.rebuild import log_page, rebuild
from projections.engine.runner import Projection, project
from projections.registry import projection_named

TARGET = 20_000  # events/s, the figure
NAMES = ("user_summary", "credit_ledger")
ONE_BY_ONE = "bench_one_by_one"


def main() -> int:
    args = _arguments()
    with scratch_database(args.dsn) as dsn:
        print(header(dsn, args))
        began = time.monotonic()
        head = generate_events(dsn, args.events)
        print(f"log: {head:,} events generated in {time.monotonic() - began:.1f} s\n")
        app = open_application(dsn, pool_size=2)
        try:
            ceiling = head / _read_all(dsn, args.batch_size)
            single = {name: _one_by_one(dsn, app, name, args.baseline_events) for name in NAMES}
            rates, failures = {}, []
            for name in NAMES:
                done = rebuild(dsn, app, projection_named(name), batch_size=args.batch_size)
                rates[name] = done.applied / done.seconds
                if done.position != head or done.applied != head:
                    failures.append(f"{name}: applied {done.applied} up to {done.position}")
            failures += _empty_tables(dsn)
        finally:
            app.close()
    print(
        f"{'read model':<16} {'rebuild ev/s':>12} {'one per tx':>11} {'ratio':>7} "
        f"{'read only':>10} {'of ceiling':>10} {'target':>8}"
    )
    for name in NAMES:
        rate = rates[name]
        verdict = "met" if rate >= TARGET else "MISSED"
        print(
            f"{name:<16} {rate:>12,.0f} {single[name]:>11,.0f} {rate / single[name]:>6.1f}x "
            f"{ceiling:>10,.0f} {rate / ceiling:>9.2f}x {TARGET:>8,} {verdict}"
        )
    for failure in failures:
        print(f"CHECK FAILED: {failure}")
    return 1 if failures else 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--baseline-events", type=int, default=5_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--dsn", default=os.environ.get("CHRONICLE_BENCH_DSN"))
    parser.add_argument("--quick", action="store_true", help="50,000 events, 2,000 one by one")
    args = parser.parse_args()
    if args.quick:
        args.events, args.baseline_events = 50_000, 2_000
    args.seconds, args.repeats = 0.0, 1  # for the shared header: one timed pass each
    return args


def _read_all(dsn: str, page: int) -> float:
    """Seconds to page through the whole log as the rebuild does, without decoding it."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        began, position = time.monotonic(), 0
        while rows := log_page(conn, position, page):
            position = rows[-1].id
        return time.monotonic() - began


def _one_by_one(dsn: str, app: Any, name: str, count: int) -> float:
    """Events/s of applying ``count`` events one per transaction, into a scratch schema."""
    projection: Projection = projection_named(name)
    notifications = app.recorder.select_notifications(start=1, limit=count)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {ONE_BY_ONE}")
        for table in projection.tables:
            conn.execute(
                sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                    sql.Identifier(ONE_BY_ONE, table), sql.Identifier("public", table)
                )
            )
        conn.execute(f"SET search_path = {ONE_BY_ONE}, public")
        conn.execute(
            "INSERT INTO public.projection_position (name) VALUES (%s)", (ONE_BY_ONE + name,)
        )
        projection.name = ONE_BY_ONE + name  # its own position row, beside the real one
        began, position = time.monotonic(), 0
        for notification in notifications:
            project(conn, app, projection, position, [notification])
            position = notification.id
        seconds = time.monotonic() - began
        conn.execute(f"DROP SCHEMA {ONE_BY_ONE} CASCADE")
    return len(notifications) / seconds


def _empty_tables(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [
            f"{name} is empty after its rebuild"
            for name in NAMES
            if not scalar(conn, sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))
        ]


if __name__ == "__main__":
    sys.exit(main())
