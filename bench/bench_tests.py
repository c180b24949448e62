"""Benchmark of the test site over HTTP: detail from the cache and from the read model, search,
and how long a save takes to show in the catalog, the search index and the cache, in one run.

Run from the repository root: ``.venv/bin/python -m bench.bench_tests [--quick]``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.apiserver import served
from bench.bench_commands import header
from bench.harness import Client, Run, Tally, drive, median_run
from bench.jobload import http_clients
from bench.server import scratch_database
from bench.testsite import Lags, measure_lag, publish_tests, wait_caught_up
from eventstore.application import open_application
from eventstore.executor import CommandExecutor

HEALTH = "GET /health"
CACHED = "GET /api/tests/{id} (cache)"
READ_MODEL = "GET /api/tests/{id}?min_position (read model)"
LIST = "GET /api/tests (first page, cache)"
SEARCH_KO = "GET /api/tests?q=여행"
SEARCH_TYPO = "GET /api/tests?q=persnality"
TARGETS = {CACHED: 0.6}  # least rate as a fraction of GET /health
LAG_TARGET_MS = 100.0  # p99, catalog and search index


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: where PostgreSQL is, how many tests, how long and how often."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_tests", description=__doc__)
    parser.add_argument("--dsn", default=os.environ.get("CHRONICLE_BENCH_DSN"))
    parser.add_argument("--tests", type=int, default=1_000, help="published tests in the catalog")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--seconds", type=float, default=3.5, help="length of each run")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each subject")
    parser.add_argument("--saves", type=float, default=20, help="saves per second (lag)")
    parser.add_argument("--lag-seconds", type=float, default=15, help="length of the lag run")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 tests, 1 run, 1.5 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.tests, args.seconds, args.repeats, args.lag_seconds = 200, 1.5, 1, 5
    return args


def getter(path: Callable[[int], str], check: Callable[[httpx.Response], bool]) -> Callable:
    """A client factory: GET ``path(n)`` in a closed loop; a wrong answer counts as an error."""

    def client_of(http: httpx.Client) -> Client:
        sequence = itertools.count()

        def call() -> None:
            response = http.get(path(next(sequence)))
            if response.status_code != 200 or not check(response):
                raise AssertionError(f"{response.status_code}: {response.text[:200]}")

        def iteration(tally: Tally, deadline: float) -> None:
            tally.measure(call)

        return iteration

    return client_of


def subjects(ids: list[str]) -> dict[str, Callable]:
    """Each measured request, with what its answer must hold."""
    hot = ids[:100]
    return {
        HEALTH: getter(lambda n: "/health", lambda r: r.json()["status"] == "ok"),
        CACHED: getter(
            lambda n: f"/api/tests/{hot[n % len(hot)]}", lambda r: "questions" in r.text
        ),
        READ_MODEL: getter(
            lambda n: f"/api/tests/{hot[n % len(hot)]}?min_position=1",
            lambda r: "questions" in r.text,
        ),
        LIST: getter(lambda n: "/api/tests", lambda r: len(r.json()["tests"]) == 20),
        SEARCH_KO: getter(lambda n: "/api/tests?q=여행", lambda r: len(r.json()["tests"]) == 20),
        SEARCH_TYPO: getter(
            lambda n: "/api/tests?q=persnality", lambda r: len(r.json()["tests"]) == 20
        ),
    }


def measure(url: str, ids: list[str], args: argparse.Namespace) -> dict[str, list[Run]]:
    """Every subject ``repeats`` times, interleaved so that drift hits all of them alike."""
    runs: dict[str, list[Run]] = {}
    clients = http_clients(url, args.clients)
    try:
        for repeat in range(1, args.repeats + 1):
            print(f"repeat {repeat}/{args.repeats}", file=sys.stderr, flush=True)
            for name, client_of in subjects(ids).items():
                drive([client_of(c) for c in clients], 0.3)  # warm: connections, cache
                run = drive([client_of(c) for c in clients], args.seconds)
                runs.setdefault(name, []).append(run)
                print(f"  {name:<48}{run.rate:>9,.0f} /s", file=sys.stderr, flush=True)
    finally:
        for client in clients:
            client.close()
    return runs


def report(runs: dict[str, list[Run]], lags: Lags, args: argparse.Namespace) -> tuple[str, bool]:
    """The table, the verdicts, and whether any request failed."""
    base = median_run(runs[HEALTH]).rate
    lines = [f"{'subject':<48}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}  × GET /health", "-" * 86]
    verdicts, failed = [], False
    for name, subject_runs in runs.items():
        run = median_run(subject_runs)
        ratio = run.rate / base if base else float("nan")
        lines.append(
            f"{name:<48}{run.rate:>9,.0f}{run.percentile_ms(0.5):>9.1f}"
            f"{run.percentile_ms(0.99):>9.1f}  {ratio:.2f}×"
        )
        errors = sum(r.unexpected + sum(r.domain_errors.values()) for r in subject_runs)
        if errors:
            failed = True
            verdicts.append(f"FAILED: {name}: {errors} wrong answers; {subject_runs[0].tracebacks}")
        if name in TARGETS:
            ok = ratio >= TARGETS[name]
            verdicts.append(f"{'met' if ok else 'MISSED'}: {name} ≥ {TARGETS[name]}× GET /health")
    lines += ["", f"commit → visible, {lags.saves} saves at {args.saves:g}/s (ms):"]
    for name, seconds in lags.by_consumer.items():
        if len(seconds) < lags.saves:
            failed = True
            verdicts.append(f"FAILED: {name} never showed {lags.saves - len(seconds)} saves")
        ms = sorted(1000 * s for s in seconds) or [float("nan")]
        p50, p99 = statistics.median(ms), ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        lines.append(f"  {name:<20} p50 {p50:7.1f}   p99 {p99:7.1f}   max {ms[-1]:7.1f}")
        if name in ("test_catalog", "test_search"):
            ok = p99 <= LAG_TARGET_MS
            verdicts.append(f"{'met' if ok else 'MISSED'}: {name} lag p99 ≤ {LAG_TARGET_MS:g} ms")
    return "\n".join(lines + [""] + verdicts), failed


def main(argv: list[str] | None = None) -> int:
    """Seed, measure, print; exit 1 when a request answered wrong or a save never showed."""
    args = parse_args(argv)
    warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR")
    started = time.monotonic()
    with (
        scratch_database(args.dsn) as dsn,
        tempfile.TemporaryDirectory(prefix="chronicle-bench-api-") as tmp,
        served(dsn, Path(tmp), command="serve") as server,
    ):
        print(header(dsn, args), flush=True)
        print(
            f"{args.tests:,} published tests, {args.clients} clients; API: `chronicle serve` "
            "(projectors and reactors in the API process) in a child process; in-process cache, "
            "PostgreSQL search",
            flush=True,
        )
        app = open_application(dsn, pool_size=12)
        executor = CommandExecutor(app)
        try:
            ids = publish_tests(executor, args.tests)
            wait_caught_up(dsn)
            runs = measure(server.url, [str(i) for i in ids], args)
            lags = measure_lag(dsn, executor, ids[:50], args.saves, args.lag_seconds)
        finally:
            executor.close()
            app.close()
    text, failed = report(runs, lags, args)
    print(f"took {time.monotonic() - started:.0f} s\n\n{text}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
