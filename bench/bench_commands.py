"""Benchmark of the command executor against raw psycopg and the naive library loop, in one run.

Run from the repository root: ``.venv/bin/python -m bench.bench_commands [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from bench import raw
from bench.harness import Run, Scenario, drive
from bench.library import NaiveSession, OursSession, register_hot_plan
from bench.report import HOT_FLOOR, SUBJECTS, Target, problems, table, targets
from bench.server import describe, scratch_database

SCENARIOS = [
    Scenario("1 client, distinct", clients=1, hot=False),
    Scenario("8 clients, distinct", clients=8, hot=False),
    Scenario("8 clients, one user", clients=8, hot=True),
    Scenario("32 clients, one user", clients=32, hot=True),
]
TARGETS = {
    "1 client, distinct": Target("(1) 1 client, distinct users", 0.8),
    "8 clients, distinct": Target("(2) 8 clients, distinct users", 1.0),
    "8 clients, one user": Target("(3) 8 clients, one hot user", 1.0, HOT_FLOOR),
    "32 clients, one user": Target("(3) 32 clients, one hot user", 1.0, HOT_FLOOR),
}
SESSIONS: dict[str, Callable[[str, Scenario], Any]] = {
    "ours": OursSession,
    "raw": raw.RawSession,
    "naive": NaiveSession,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: where PostgreSQL is, how long and how often to measure."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_commands", description=__doc__)
    parser.add_argument(
        "--dsn",
        default=os.environ.get("CHRONICLE_BENCH_DSN"),
        help="a PostgreSQL server to make a scratch database on (default: a fresh embedded one; "
        "env CHRONICLE_BENCH_DSN)",
    )
    parser.add_argument("--seconds", type=float, default=3.5, help="length of each run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per scenario and subject")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 run of 1.5 s each")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats = 1.5, 1
    return args


def measure(dsn: str, scenario: Scenario, subject: str, seconds: float) -> Run:
    """One run of ``subject`` in ``scenario`` on fresh users, then its after-run checks."""
    session = SESSIONS[subject](dsn, scenario)
    try:
        run = drive(session.clients, seconds)
    finally:
        session.close()
    run.check_failures = session.check()
    run.per_transaction = session.per_transaction
    return run


def measure_all(dsn: str, seconds: float, repeats: int) -> dict[tuple[str, str], list[Run]]:
    """Every scenario and subject ``repeats`` times, interleaved so that noise hits all alike."""
    results: dict[tuple[str, str], list[Run]] = {}
    for repeat in range(1, repeats + 1):
        for scenario in SCENARIOS:
            for subject in SUBJECTS:
                run = measure(dsn, scenario, subject, seconds)
                results.setdefault((scenario.label, subject), []).append(run)
                print(
                    f"  run {repeat}/{repeats}  {scenario.label:<22}{subject:<7}"
                    f"{run.rate:>9,.0f} cmd/s",
                    file=sys.stderr,
                    flush=True,
                )
    return results


def header(dsn: str, args: argparse.Namespace) -> str:
    """What the figures were measured on."""
    server = describe(dsn)
    where = "given server (scratch database)" if args.dsn else "fresh embedded server"
    return "\n".join(
        [
            f"PostgreSQL {server['server_version']} ({where}); fsync={server['fsync']} "
            f"synchronous_commit={server['synchronous_commit']} "
            f"shared_buffers={server['shared_buffers']} "
            f"max_connections={server['max_connections']}",
            f"cores: {server['cpu_count']} ({server['usable_cores']} usable); "
            f"Python {platform.python_version()}; eventsourcing {version('eventsourcing')}; "
            f"psycopg {version('psycopg')}",
            f"code: {_revision()}; each figure: median of {args.repeats} run(s) "
            f"of {args.seconds:g} s; load average at start {_load()}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, the targets and any problem; exit 1 on a failed check."""
    args = parse_args(argv)
    warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR")  # the embedded server's socket dir
    register_hot_plan()
    started = time.monotonic()
    with scratch_database(args.dsn) as dsn:
        raw.create_table(dsn)
        print(header(dsn, args), flush=True)
        results = measure_all(dsn, args.seconds, args.repeats)
    verdicts, _ = targets(TARGETS, results)
    found, serious = problems(results)
    print(f"load average at end {_load()}; took {time.monotonic() - started:.0f} s\n")
    print(table(SCENARIOS, results))
    print(f"\n{verdicts}\n")
    print(found or "no errors, every check passed (conservation of credits, acked = recorded)")
    return 1 if serious else 0


def _revision() -> str:
    try:
        described = subprocess.run(
            ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    return described.stdout.strip()


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
