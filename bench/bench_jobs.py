"""Benchmark of job callbacks and job creation, at the command level and over HTTP, in one run.

Run from the repository root: ``.venv/bin/python -m bench.bench_jobs [--quick]``.
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

from bench.apiserver import Served, bench_tokens, served
from bench.bench_commands import header
from bench.cpu import CpuMeter
from bench.harness import Run, drive
from bench.jobload import (
    drive_items,
    executor_callback,
    executor_grant,
    http_callback,
    http_callbacks,
    http_clients,
    http_create_job,
    http_health,
    http_me,
    windowed,
)
from bench.jobreport import Group, Sample, load_lines, table, verdicts
from bench.jobsetup import (
    BenchJob,
    check_job,
    check_users,
    funded_users,
    lease_all,
    load_times,
    project_user_summary,
    queued_job,
)
from bench.library import BALANCE, HOT_PLAN, register_hot_plan
from bench.report import problems
from bench.server import scratch_database, wait_for_connections
from eventstore.application import open_application
from eventstore.executor import CommandExecutor

TARGET = 1_000.0  # callbacks/s: the Durable Object's soft limit
EXECUTOR = Group("(1a) callbacks, executor", "record_item_result", "grant_credits, 1 user", TARGET)
HTTP = Group("(1b) callbacks, HTTP", "POST /jobs/{id}/callback", "GET /health", TARGET)
BATCH = 20  # items per request of (1c): a GPU worker's batch
BATCHED = Group(
    "(1c) callbacks, HTTP batch",
    f"POST …/callbacks ×{BATCH}",
    "GET /health",
    target=5_000.0,
    per_request=BATCH,
)
CREATE = Group("(2) create jobs, HTTP", "POST /jobs", "GET /health", ratio=0.5)
ME = Group("(3) read account, HTTP", "GET /me", "GET /health", ratio=0.7)
GROUPS = [EXECUTOR, HTTP, BATCHED, CREATE, ME]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: where PostgreSQL is, how big, how long and how often to measure."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_jobs", description=__doc__)
    parser.add_argument(
        "--dsn",
        default=os.environ.get("CHRONICLE_BENCH_DSN"),
        help="a PostgreSQL server to make a scratch database on (default: a fresh embedded one; "
        "env CHRONICLE_BENCH_DSN)",
    )
    parser.add_argument("--items", type=int, default=10_000, help="items of each job in (1)")
    parser.add_argument("--workers", type=int, default=8, help="threads reporting items in (1)")
    parser.add_argument(
        "--clients", type=int, default=16, help="clients creating jobs in (2), reading in (3)"
    )
    parser.add_argument(
        "--seconds", type=float, default=3.5, help="length of each run of (2) and of the baselines"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs of each subject")
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 1 run each, jobs of 2,000, 1.5 s"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.items, args.seconds, args.repeats = 2_000, 1.5, 1
    return args


class JobsBench:
    """The bench process's executor and tokens, the server's URL, and every sample taken."""

    def __init__(self, dsn: str, server: Served, args: argparse.Namespace) -> None:
        self.dsn, self.server, self.args = dsn, server, args
        self.app = open_application(dsn, pool_size=args.workers + 4)
        wait_for_connections(self.app)
        self.executor = CommandExecutor(self.app)
        self.meter = CpuMeter(dsn, server.pid)
        self.tokens = bench_tokens()
        self.worker_token = self.tokens.issue("bench-worker", "worker")
        self.results: dict[tuple[str, str], list[Sample]] = {}
        self.last_job: BenchJob | None = None

    def sample(self, group: Group, subject: str, measure: Callable[[], Run]) -> Run:
        """Run ``measure`` and keep its run with the CPU time every party spent meanwhile."""
        before = self.meter.read()
        run = measure()
        self.results.setdefault((group.label, subject), []).append(
            Sample(run, self.meter.read() - before)
        )
        print(f"  {group.label:<26}{subject:<26}{run.rate:>9,.0f} /s", file=sys.stderr, flush=True)
        return run

    def callbacks_on_executor(self) -> None:
        """(1a) Every item of a fresh job reported by threads calling the executor directly."""
        items, workers = self.args.items, self.args.workers
        job = queued_job(self.executor, items)
        calls = [executor_callback(self.executor, job)] * workers
        run = self.sample(EXECUTOR, EXECUTOR.subject, lambda: drive_items(calls, items))
        run.check_failures = check_job(self.dsn, job, None)
        user_id = funded_users(self.executor, 1, "pro", BALANCE)[0]
        grants = [windowed(executor_grant(self.executor, user_id)) for _ in range(workers)]
        self.sample(EXECUTOR, EXECUTOR.baseline, lambda: drive(grants, self.args.seconds))

    def callbacks_over_http(self, group: Group) -> None:
        """(1b), (1c): every item of a fresh job reported by worker threads over HTTP, one per
        request on the single route, ``group.per_request`` per request on the batched one."""
        items, workers, size = self.args.items, self.args.workers, group.per_request
        job = queued_job(self.executor, items)
        lease_all(self.dsn, job, "worker:bench-worker")
        clients = http_clients(self.server.url, workers)
        try:
            token = self.worker_token
            calls = [
                http_callback(c, token, job) if size == 1 else http_callbacks(c, token, job, size)
                for c in clients
            ]
            requests = -(-items // size)
            run = self.sample(group, group.subject, lambda: drive_items(calls, requests))
            run.check_failures = check_job(self.dsn, job, f"callback:{job.job_id}:")
            health = [windowed(http_health(c)) for c in clients]
            self.sample(group, group.baseline, lambda: drive(health, self.args.seconds))
        finally:
            for client in clients:
                client.close()
        self.last_job = job

    def create_jobs_over_http(self) -> None:
        """(2) Closed-loop ``POST /jobs`` for a window, one user per client, then the check."""
        count, seconds = self.args.clients, self.args.seconds
        users = funded_users(self.executor, count, HOT_PLAN.name, BALANCE)
        acked: Counter[UUID] = Counter()
        clients = http_clients(self.server.url, count)
        try:
            creators = [
                windowed(http_create_job(c, self.tokens.issue(str(u), "user")), acked, u)
                for c, u in zip(clients, users, strict=True)
            ]
            run = self.sample(CREATE, CREATE.subject, lambda: drive(creators, seconds))
            run.check_failures = check_users(self.dsn, users, BALANCE, acked)
            health = [windowed(http_health(c)) for c in clients]
            self.sample(CREATE, CREATE.baseline, lambda: drive(health, seconds))
        finally:
            for client in clients:
                client.close()

    def read_accounts_over_http(self) -> None:
        """(3) Closed-loop ``GET /me``, one user per client."""
        count, seconds = self.args.clients, self.args.seconds
        users = funded_users(self.executor, count, "pro", BALANCE)
        project_user_summary(self.dsn, self.app)  # their rows, which GET /me reads
        clients = http_clients(self.server.url, count)
        try:
            readers = [
                windowed(http_me(c, self.tokens.issue(str(u), "user")))
                for c, u in zip(clients, users, strict=True)
            ]
            self.sample(ME, ME.subject, lambda: drive(readers, seconds))
            health = [windowed(http_health(c)) for c in clients]
            self.sample(ME, ME.baseline, lambda: drive(health, seconds))
        finally:
            for client in clients:
                client.close()

    def close(self) -> None:
        self.executor.close()
        self.app.close()


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    """Measure, print the tables, the targets and any problem; exit 1 on a failed check."""
    args = parse_args(argv)
    warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR")  # the embedded server's socket dir
    register_hot_plan()
    started = time.monotonic()
    with (
        scratch_database(args.dsn) as dsn,
        tempfile.TemporaryDirectory(prefix="chronicle-bench-api-") as tmp,
        served(dsn, Path(tmp)) as server,
    ):
        print(header(dsn, args), flush=True)
        print(
            f"(1): each run reports all {args.items:,} items of a fresh job from "
            f"{args.workers} threads ((1c): {BATCH} per request), baselines run for "
            f"{args.seconds:g} s; (2), (3): {args.clients} clients; API: `chronicle api` in a "
            "child process",
            flush=True,
        )
        bench = JobsBench(dsn, server, args)
        try:
            for repeat in range(1, args.repeats + 1):
                print(f"repeat {repeat}/{args.repeats}", file=sys.stderr, flush=True)
                bench.callbacks_on_executor()
                bench.callbacks_over_http(HTTP)
                bench.callbacks_over_http(BATCHED)
                bench.create_jobs_over_http()
                bench.read_accounts_over_http()
            assert bench.last_job is not None
            loads = load_times(dsn, bench.last_job.job_id)
        finally:
            bench.close()
    found, serious = problems({k: [s.run for s in v] for k, v in bench.results.items()})
    print(f"load average at end {_load_average()}; took {time.monotonic() - started:.0f} s\n")
    print(table(GROUPS, bench.results, len(os.sched_getaffinity(0))))
    print(f"\n{verdicts(GROUPS, bench.results)}\n")
    print(load_lines(loads, args.items))
    print()
    print(
        found
        or "no errors, every check passed (jobs done with every item counted once, "
        "credits reserved as acknowledged)"
    )
    return 1 if serious else 0


if __name__ == "__main__":
    sys.exit(main())
