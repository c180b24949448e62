"""Benchmark of one API process against two on one port (``chronicle api --workers 2``), one run.

Per server: ``POST /jobs`` by distinct users (one per client), ``GET /health`` (the ceiling of
the HTTP stack and of this load generator), and ``POST /jobs`` by every client for one hot user
(what a hot aggregate costs when its commands land on both processes: conflicted transactions
that run again). Closed loop, fixed window; after each command run the credits are checked.

Run from the repository root: ``.venv/bin/python -m bench.bench_workers [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from uuid import UUID

import httpx

from bench.apiprocesses import api_processes, clients_per_process, spread_clients, transactions
from bench.apiserver import Served, bench_tokens, served
from bench.bench_commands import header
from bench.cpu import CpuMeter
from bench.harness import Run, drive, median_run
from bench.jobload import Call, http_create_job, http_health, windowed
from bench.jobsetup import check_users, funded_users
from bench.library import BALANCE, HOT_PLAN, register_hot_plan
from bench.report import problems
from bench.server import scratch_database, wait_for_connections
from domain.errors import VersionConflict
from eventstore.application import open_application
from eventstore.executor import CommandExecutor

TARGET = 1.6  # two processes' distinct-user rate over one process's
CORES = len(os.sched_getaffinity(0))
SUBJECTS = ("POST /jobs, distinct users", "GET /health", "POST /jobs, one hot user")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: where PostgreSQL is, how many clients, how long and how often."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_workers", description=__doc__)
    parser.add_argument(
        "--dsn",
        default=os.environ.get("CHRONICLE_BENCH_DSN"),
        help="a PostgreSQL server to make a scratch database on (default: a fresh embedded one; "
        "env CHRONICLE_BENCH_DSN)",
    )
    parser.add_argument("--clients", type=int, default=16, help="closed-loop HTTP clients")
    parser.add_argument("--threads", type=int, default=16, help="CHRONICLE_THREADS per process")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each run")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each subject")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 run each, 1.5 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats = 1.5, 1
    return args


def refusing(call: Call) -> Call:
    """``call``, with a ``409 version_conflict`` counted as the refusal it is, not a failure.

    The executor gives a command up after ``CHRONICLE_COMMAND_MAX_ATTEMPTS`` lost version
    checks in a row and answers so (nothing recorded; the client may retry): a hot aggregate
    spread over processes can starve one command that long.
    """

    def refused_or_done(index: int) -> object:
        try:
            return call(index)
        except httpx.HTTPStatusError as exc:
            answer = exc.response
            if answer.status_code == 409 and answer.json()["error"]["code"] == "version_conflict":
                raise VersionConflict(answer.json()["error"]["message"]) from exc
            raise

    return refused_or_done


class WorkersBench:
    """The bench's executor (to fund users) and tokens, and every run by (workers, subject)."""

    def __init__(self, dsn: str, args: argparse.Namespace) -> None:
        self.dsn, self.args = dsn, args
        self.app = open_application(dsn, pool_size=4)
        wait_for_connections(self.app)
        self.executor = CommandExecutor(self.app)
        self.tokens = bench_tokens()
        self.meter = CpuMeter(dsn)
        self.runs: dict[tuple[int, str], list[Run]] = {}
        self.cpu: dict[tuple[int, str], list[tuple[float, ...]]] = {}
        self.spread: dict[int, list[int]] = {}
        self.conflicted: dict[int, tuple[int, int]] = {}

    def measure(self, workers: int, server: Served) -> None:
        """Every subject against ``server`` (``workers`` API processes), ``repeats`` times."""
        port = int(server.url.rsplit(":", 1)[1])
        clients = spread_clients(server.url, server.pid, port, self.args.clients)
        self.spread[workers] = clients_per_process(server.pid, port)
        health = [windowed(http_health(c)) for c in clients]
        try:
            self._create_jobs(clients, hot=False)  # warm-up: pools fill, code paths load; not kept
            for _ in range(self.args.repeats):
                self._run(server, SUBJECTS[0], lambda: self._create_jobs(clients, hot=False))
                self._run(server, SUBJECTS[1], lambda: drive(health, self.args.seconds))
                before = transactions(server.pid, port)
                self._run(server, SUBJECTS[2], lambda: self._create_jobs(clients, hot=True))
                after = transactions(server.pid, port)
                committed, conflicted = self.conflicted.get(workers, (0, 0))
                self.conflicted[workers] = (
                    committed + after[0] - before[0],
                    conflicted + after[1] - before[1],
                )
        finally:
            for client in clients:
                client.close()

    def _run(self, server: Served, subject: str, measure: Callable[[], Run]) -> None:
        """Run ``measure``; keep the run and the CPU seconds each party spent during it."""
        workers = len(api_processes(server.pid))
        before = self._cpu(server)
        run = measure()
        spent = tuple(a - b for a, b in zip(self._cpu(server), before, strict=True))
        self.runs.setdefault((workers, subject), []).append(run)
        self.cpu.setdefault((workers, subject), []).append(spent)
        print(f"  {workers} process(es)  {subject:<28}{run.rate:>9,.0f} /s", file=sys.stderr)

    def _create_jobs(self, clients: list[httpx.Client], *, hot: bool) -> Run:
        count = 1 if hot else len(clients)
        users = funded_users(self.executor, count, HOT_PLAN.name, BALANCE)
        acked = [Counter[UUID]() for _ in clients]
        owners = users * len(clients) if hot else users
        creators = [
            windowed(refusing(http_create_job(c, self.tokens.issue(str(u), "user"))), acked[i], u)
            for i, (c, u) in enumerate(zip(clients, owners, strict=True))
        ]
        run = drive(creators, self.args.seconds)
        run.check_failures = check_users(self.dsn, users, BALANCE, sum(acked, Counter[UUID]()))
        return run

    def _cpu(self, server: Served) -> tuple[float, ...]:
        """CPU seconds so far of the bench, the API processes, PostgreSQL, the machine; the time."""
        read = self.meter.read()
        api = sum(sum(p.cpu_times()[:2]) for p in api_processes(server.pid))
        return (read.bench, api, read.postgres or 0.0, read.machine or 0.0, time.perf_counter())

    def close(self) -> None:
        self.executor.close()
        self.app.close()


def report(bench: WorkersBench) -> str:
    """The table: each subject on one and on two processes, p50/p99, and the ratio."""
    lines = [
        f"{'subject':<28}{'1 process /s':>14}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'2 processes /s':>16}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>7}"
    ]
    for subject in SUBJECTS:
        one, two = (median_run(bench.runs[(w, subject)]) for w in (1, 2))
        lines.append(
            f"{subject:<28}{one.rate:>14,.0f}{one.percentile_ms(0.5):>8.1f}"
            f"{one.percentile_ms(0.99):>8.1f}{two.rate:>16,.0f}{two.percentile_ms(0.5):>8.1f}"
            f"{two.percentile_ms(0.99):>8.1f}{two.rate / one.rate:>6.2f}x"
        )
    ratio = (
        median_run(bench.runs[(2, SUBJECTS[0])]).rate
        / median_run(bench.runs[(1, SUBJECTS[0])]).rate
    )
    lines.append(
        "\nCPU ms per request, all runs (bench / API processes / PostgreSQL; machine busy)"
    )
    for subject in SUBJECTS:
        for workers in (1, 2):
            runs, spent = bench.runs[(workers, subject)], bench.cpu[(workers, subject)]
            done = sum(len(r.latencies) for r in runs) or 1
            each = "/".join(f"{1000 * sum(s[i] for s in spent) / done:.2f}" for i in range(3))
            busy = sum(s[3] for s in spent) / sum(s[4] for s in spent) / CORES
            lines.append(f"  {subject:<28}{workers} process(es)  {each:<20} busy {busy:.0%}")
    verdict = "met" if ratio >= TARGET else "MISSED"
    lines.append(
        f"\ndistinct-user commands, 2 processes / 1: {ratio:.2f}x (target >= {TARGET}x: {verdict})"
    )
    for workers in (1, 2):
        committed, conflicted = bench.conflicted[workers]
        share = conflicted / max(1, committed + conflicted)
        lines.append(
            f"hot user, {workers} process(es): {committed:,} transactions committed, "
            f"{conflicted:,} conflicted ({share:.1%}); clients per process {bench.spread[workers]}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table, the target and any problem; exit 1 on a failed check."""
    args = parse_args(argv)
    warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR")  # the embedded server's socket dir
    register_hot_plan()
    started = time.monotonic()
    with scratch_database(args.dsn) as dsn:
        print(header(dsn, args), flush=True)
        print(
            f"{args.clients} closed-loop clients (threads of this process, keep-alive httpx); "
            f"API: `chronicle api --workers N` in a child process, {args.threads} threads each",
            flush=True,
        )
        bench = WorkersBench(dsn, args)
        try:
            for workers in (1, 2):
                with (
                    tempfile.TemporaryDirectory(prefix="chronicle-bench-api-") as tmp,
                    served(dsn, Path(tmp), workers=workers, threads=args.threads) as server,
                ):
                    bench.measure(workers, server)
        finally:
            bench.close()
    found, serious = problems({(str(w), s): runs for (w, s), runs in bench.runs.items()})
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at end {load}; took {time.monotonic() - started:.0f} s\n")
    print(report(bench))
    print()
    print(found or "no errors, every check passed (credits reserved exactly as acknowledged)")
    return 1 if serious else 0


if __name__ == "__main__":
    sys.exit(main())
