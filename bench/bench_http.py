"""What one request costs the server, from a bare FastAPI route up to Chronicle's routes, under wrk.

Each server is one process on this machine, started in turn and stopped after its runs, once
per repeat (the repeats interleave): a bare FastAPI app with one route (``bench.httpapps``,
served by uvicorn with Chronicle's settings: uvloop, httptools, the access log on), Chronicle
under uvicorn and under granian, and (``--before DIR``) Chronicle as an earlier revision's
source tree in DIR has it. Per server and route: wrk's rate and latency (16 connections, one
thread and one user each) and the server's CPU per request (its processes', from /proc).
``POST /jobs/{id}/callback`` reports items of a job of its own per run, leased to the bench's
worker. Run from the repository root (``apt-get install wrk``; for granian,
``.venv/bin/pip install granian``): ``.venv/bin/python -m bench.bench_http --before DIR``.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.apiserver import api_environ, bench_tokens, free_url, wait_ready
from bench.bench_commands import header
from bench.bench_wrk import (
    check_credits,
    funded_tokens,
    run_wrk,
    wrk_arguments,
    wrk_bench_ready,
    wrk_scripts,
)
from bench.cpu import process_tree_seconds
from bench.httpreport import report
from bench.jobsetup import BIG_PRESET, lease_all, queued_job
from bench.server import scratch_database
from eventstore.application import open_application
from eventstore.executor import CommandExecutor

ROUTES = ("GET /health", "GET /me", "POST /jobs", "POST /jobs/{id}/callback")
WORKER = "bench-worker"
CALLBACK = """
local made, n = 0, 0
function setup(thread)
  made = made + 1
  thread:set("slot", made - 1)
end
request = function()
  local i = slot + n * %(threads)d
  n = n + 1
  local body = string.format('{"item_index": %%d, "outcome": "succeeded", '
    .. '"idempotency_key": "cb-%%d", "result_key": "results/%(user)s/%(job)s/%%d"}', i, i, i)
  return wrk.format("POST", "/jobs/%(job)s/callback",
    {["Authorization"] = "Bearer %(token)s", ["Content-Type"] = "application/json"}, body)
end
"""


@dataclass(frozen=True)
class Server:
    """How to start one server, and the routes asked of it."""

    name: str
    command: list[str]
    routes: tuple[str, ...] = ROUTES
    tree: Path | None = None  # the source tree it runs from, when not this one


@dataclass
class Run:
    rate: float
    p50_ms: float
    p99_ms: float
    cpu_us: float  # the server's CPU per request answered
    failed: int
    requests: int


def servers(args: argparse.Namespace) -> list[Server]:
    """Every server measured, bare ones first, the earlier revision beside this one."""
    # As api.cli.supervisor.SERVER_OPTIONS has them for every served API.
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "--log-level", "info"]
    uvicorn += ["--no-proxy-headers"]
    quiet = [*uvicorn, "--no-access-log"]
    granian = [str(Path(sys.executable).with_name("granian")), "--interface", "asgi"]
    granian += ["--factory", "--workers", "1", "--loop", "uvloop", "--log-level", "info"]
    health = ("GET /health",)
    before = [
        Server("chronicle before", [*uvicorn, "bench.apiserver:create_app"], tree=Path(tree))
        for tree in ([args.before] if args.before else [])
    ]
    found = [
        Server("bare async", [*uvicorn, "bench.httpapps:bare_async"], health),
        Server("bare def", [*uvicorn, "bench.httpapps:bare_def"], health),
        Server("bare def, no access log", [*quiet, "bench.httpapps:bare_def"], health),
        Server("bare def, included", [*uvicorn, "bench.httpapps:bare_def_included"], health),
        Server("bare def, bytes", [*uvicorn, "bench.httpapps:bare_def_bytes"], health),
        Server("chronicle", [*uvicorn, "bench.apiserver:create_app"]),
        *before,
        Server("chronicle, no access log", [*quiet, "bench.apiserver:create_app"], health),
        Server(
            "chronicle, no middleware", [*uvicorn, "bench.httpapps:chronicle_without_edge"], health
        ),
        Server(
            "chronicle, documented order", [*uvicorn, "bench.httpapps:chronicle_documented_order"]
        ),
        Server("chronicle, no gc.freeze", [*uvicorn, "bench.httpapps:chronicle_unfrozen"]),
    ]
    if Path(granian[0]).exists():
        found.append(
            Server("chronicle, granian", [*granian, "--access-log", "bench.apiserver:create_app"])
        )
        found.append(
            Server(
                "chronicle, granian, no access log",
                [*granian, "bench.apiserver:create_app"],
                health,
            )
        )
    return [s for s in found if not args.servers or s.name in args.servers.split(";")]


@contextmanager
def started(server: Server, dsn: str, data_dir: Path) -> Iterator[tuple[str, int]]:
    """``server`` on a free port: its URL and process id; stopped (SIGTERM) on exit."""
    url = free_url()
    host, port = url.removeprefix("http://").split(":")
    env = api_environ(dsn, data_dir, url, threads=16)
    if server.tree is not None:  # the earlier revision's packages, not this one's
        env["PYTHONPATH"] = str(server.tree)
    log_path = data_dir / f"{server.name.replace(' ', '-').replace(',', '')}.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [*server.command, "--host", host, "--port", port],
            cwd=server.tree,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        wait_ready(url, process, log_path)
        yield url, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def callback_script(tmp: Path, dsn: str, connections: int, run: int) -> Path:
    """A wrk script reporting each item of a fresh leased job once, over every connection."""
    app = open_application(dsn, pool_size=2)
    executor = CommandExecutor(app)
    try:
        job = queued_job(executor, BIG_PRESET.max_items)
    finally:
        executor.close()
        app.close()
    lease_all(dsn, job, f"worker:{WORKER}")
    token = bench_tokens().issue(WORKER, "worker")
    values = {"threads": connections, "user": job.user_id, "job": job.job_id, "token": token}
    script = tmp / f"callback-{run}.lua"
    script.write_text(CALLBACK % values)
    return script


def measure(url: str, pid: int, script: Path, args: argparse.Namespace) -> Run:
    """One wrk run against ``url``, with the CPU the server's processes spent meanwhile."""
    before = process_tree_seconds(pid)
    result = run_wrk(url, script, args)
    spent = process_tree_seconds(pid) - before
    answered = max(1, result.requests - result.failed)
    return Run(
        result.rate,
        result.p50_ms,
        result.p99_ms,
        1e6 * spent / answered,
        result.failed,
        result.requests,
    )


def idle_cpu(pid: int, seconds: float = 3.0) -> float:
    """The server's CPU per second with no request at all (its background threads)."""
    before = process_tree_seconds(pid)
    time.sleep(seconds)
    return (process_tree_seconds(pid) - before) / seconds


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_http", description=__doc__)
    parser.add_argument("--before", help="the source tree of an earlier revision, to compare")
    parser.add_argument("--servers", help="only these servers, by name, separated by ';'")
    return wrk_arguments(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not wrk_bench_ready():
        return 2
    runs: dict[tuple[str, str], list[Run]] = {}
    idle: dict[str, float] = {}
    jobs = itertools.count()
    with scratch_database(args.dsn) as dsn, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        print(header(dsn, args), flush=True)
        users, tokens = funded_tokens(dsn, args.connections)
        scripts = wrk_scripts(tmp, tokens)
        for repeat in range(args.repeats):
            for number, server in enumerate(servers(args)):
                data_dir = tmp / f"data-{repeat}-{number}"
                data_dir.mkdir()
                with started(server, dsn, data_dir) as (url, pid):
                    if repeat == 0 and server.name.startswith("chronicle"):
                        idle[server.name] = idle_cpu(pid)
                    for route in server.routes:
                        script = scripts.get(route) or callback_script(
                            tmp, dsn, args.connections, next(jobs)
                        )
                        run = measure(url, pid, script, args)
                        runs.setdefault((server.name, route), []).append(run)
                        note = f"{run.rate:>9,.0f} /s{run.cpu_us:>8,.0f} µs CPU"
                        print(f"  {server.name:<34}{route:<26}{note}", file=sys.stderr)
        created = sum(
            r.requests - r.failed
            for (_, route), rs in runs.items()
            for r in rs
            if route == "POST /jobs"
        )
        count = sum(len(rs) for (_, route), rs in runs.items() if route == "POST /jobs")
        problems = check_credits(dsn, users, created, created + count * args.connections)
    print(report(runs, idle))
    failed = sum(r.failed for rs in runs.values() for r in rs)
    print(f"\nnon-2xx answers and socket errors: {failed}")
    print("\n".join(problems) or f"every check passed ({created:,} jobs, no credit lost)")
    return 1 if problems or failed else 0


if __name__ == "__main__":
    sys.exit(main())
