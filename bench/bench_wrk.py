"""HTTP rates under wrk, a load generator written in C: the server's figures, not the client's.

The Python clients of ``bench_jobs`` and ``bench_workers`` spend about as much CPU per request
as the API does (both on this machine's two cores), which caps every rate and pulls every ratio
towards 1. wrk spends a few microseconds. Per server (``chronicle api`` with 1, then 2 processes,
one scratch database), interleaved and repeated: ``GET /health`` (the ceiling), ``GET /me`` and
``POST /jobs`` (preset ``portrait``, 2 items), each connection (one wrk thread each) for its
own user. After the runs every user's credits are checked: ``available + reserved`` is the
balance, and the jobs reserved are at least the ``201`` answers wrk counted (at most that plus
one in flight per connection and run).

Run from the repository root: ``apt-get install wrk`` then ``.venv/bin/python -m bench.bench_wrk``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from bench.apiserver import bench_tokens, served
from bench.bench_commands import header
from bench.jobload import JOB_ITEMS, JOB_PRESET
from bench.jobsetup import funded_users, project_user_summary
from bench.library import BALANCE, HOT_PLAN, register_hot_plan
from bench.server import scratch_database
from domain.usercredits import UserCredits
from eventstore.application import open_application
from eventstore.executor import CommandExecutor

SUBJECTS = ("GET /health", "GET /me", "POST /jobs")
RATIOS = {"GET /me": 0.7, "POST /jobs": 0.5}  # least share of GET /health, one process
TWO_PROCESSES = 1.6  # least rate of POST /jobs on 2 processes over 1
# One wrk thread per connection, each with its own Lua state and its own user: a user's
# requests come one at a time, as from the one client of bench_jobs.
SCRIPT = """
local tokens = {%(tokens)s}
local made = 0
function setup(thread)
  made = made + 1
  thread:set("token", tokens[((made - 1) %% #tokens) + 1])
end
request = function()
  local headers = {["Authorization"] = "Bearer " .. token,
                   ["Content-Type"] = "application/json"}
  return wrk.format("%(method)s", "%(path)s", headers, %(body)s)
end
"""


@dataclass(frozen=True)
class Result:
    rate: float
    p50_ms: float
    p99_ms: float
    requests: int
    failed: int  # non-2xx answers and socket errors


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_wrk", description=__doc__)
    return wrk_arguments(parser, argv)


def wrk_arguments(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """``argv`` parsed with the options of every bench under wrk added to ``parser``."""
    parser.add_argument("--dsn", default=os.environ.get("CHRONICLE_BENCH_DSN"))
    parser.add_argument("--connections", type=int, default=16, help="one user each")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 run each of 2 s")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.repeats = 2, 1
    return args


def wrk_bench_ready() -> bool:
    """Whether wrk can run here (else say how to install it); the bench plan registered."""
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return False
    warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR")
    register_hot_plan()
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not wrk_bench_ready():
        return 2
    results: dict[tuple[int, str], list[Result]] = {}
    with scratch_database(args.dsn) as dsn, tempfile.TemporaryDirectory() as tmp:
        print(header(dsn, args), flush=True)
        users, tokens = funded_tokens(dsn, args.connections)
        scripts = wrk_scripts(Path(tmp), tokens)
        for workers in (1, 2):
            data_dir = Path(tmp) / f"api-{workers}"
            data_dir.mkdir()
            with served(dsn, data_dir, "api", workers=workers, threads=16) as server:
                for _ in range(args.repeats):
                    for subject in SUBJECTS:
                        result = run_wrk(server.url, scripts[subject], args)
                        results.setdefault((workers, subject), []).append(result)
                        print(
                            f"  {workers} process(es)  {subject:<12}{result.rate:>9,.0f} /s",
                            file=sys.stderr,
                            flush=True,
                        )
        created = sum(
            r.requests - r.failed for (_, s), rs in results.items() for r in rs if s == "POST /jobs"
        )
        runs = sum(len(rs) for (_, s), rs in results.items() if s == "POST /jobs")
        found = check_credits(dsn, users, created, created + runs * args.connections)
    print(_table(results))
    print()
    print(_verdicts(results))
    failed = sum(r.failed for rs in results.values() for r in rs)
    print(f"\nnon-2xx answers and socket errors: {failed}")
    print(
        "\n".join(found)
        or f"every check passed ({created:,} jobs acknowledged, all reserved, "
        "no credit lost or spent twice)"
    )
    return 1 if found or failed else 0


def funded_tokens(dsn: str, count: int) -> tuple[list[UUID], list[str]]:
    """``count`` users of the hot plan with a balance, projected, and a user token of each."""
    app = open_application(dsn, pool_size=4)
    executor = CommandExecutor(app)
    try:
        users = funded_users(executor, count, HOT_PLAN.name, BALANCE)
        project_user_summary(dsn, app)
    finally:
        executor.close()
        app.close()
    issuer = bench_tokens()
    return users, [issuer.issue(str(u), "user") for u in users]


def lua_script(tmp: Path, tokens: list[str], method: str, path: str, body: str = "nil") -> Path:
    """A wrk script sending ``method path`` (Lua ``body``) as one user per connection."""
    quoted = ", ".join(f'"{t}"' for t in tokens)
    script = tmp / f"{method}-{path.strip('/')}.lua"
    script.write_text(SCRIPT % {"tokens": quoted, "method": method, "path": path, "body": body})
    return script


def wrk_scripts(tmp: Path, tokens: list[str]) -> dict[str, Path]:
    body = json.dumps(json.dumps({"preset": JOB_PRESET, "item_count": JOB_ITEMS}))
    calls = {
        "GET /health": ("GET", "/health", "nil"),
        "GET /me": ("GET", "/me", "nil"),
        "POST /jobs": ("POST", "/jobs", body),
    }
    return {
        subject: lua_script(tmp, tokens, method, path, sent)
        for subject, (method, path, sent) in calls.items()
    }


def run_wrk(url: str, script: Path, args: argparse.Namespace) -> Result:
    each = str(args.connections)  # one wrk thread per connection
    command = ["wrk", "--latency", "-t", each, "-c", each, "-d", f"{args.seconds}s"]
    command += ["-s", str(script), url]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(non_2xx.group(1)) if non_2xx else 0) + (
        sum(int(g) for g in errors.groups()) if errors else 0
    )
    if failed:
        print(f"{script.stem}: {failed} failed\n{out}", file=sys.stderr, flush=True)
    return Result(rate, _percentile(out, "50"), _percentile(out, "99"), requests, failed)


def _percentile(out: str, which: str) -> float:
    found = re.search(rf"^\s+{which}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if found is None:
        return float("nan")
    value, unit = float(found.group(1)), found.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def check_credits(dsn: str, users: list[UUID], least: int, most: int) -> list[str]:
    app = open_application(dsn, pool_size=2)
    problems, held = [], 0
    try:
        for user_id in users:
            credits: UserCredits = app.repository.get(user_id)
            held += len(credits.reservations)
            if credits.available + credits.reserved != BALANCE or credits.available < 0:
                problems.append(
                    f"CHECK FAILED user {user_id}: available {credits.available} "
                    f"+ reserved {credits.reserved} != {BALANCE}"
                )
    finally:
        app.close()
    if not least <= held <= most:
        problems.append(
            f"CHECK FAILED {held} jobs reserved for {least} acknowledged "
            f"(at most {most} with those in flight)"
        )
    return problems


def _median(results: list[Result]) -> Result:
    return sorted(results, key=lambda r: r.rate)[len(results) // 2]


def _table(results: dict[tuple[int, str], list[Result]]) -> str:
    lines = [
        f"{'processes':<11}{'subject':<14}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'×health':>9}  runs (req/s)"
    ]
    for workers in (1, 2):
        health = _median(results[workers, "GET /health"]).rate
        for subject in SUBJECTS:
            runs = results[workers, subject]
            m = _median(runs)
            lines.append(
                f"{workers:<11}{subject:<14}{m.rate:>8,.0f}{m.p50_ms:>9.2f}"
                f"{m.p99_ms:>9.2f}{m.rate / health:>9.2f}  "
                + " / ".join(f"{r.rate:,.0f}" for r in runs)
            )
    return "\n".join(lines)


def _verdicts(results: dict[tuple[int, str], list[Result]]) -> str:
    lines = []
    health = _median(results[1, "GET /health"]).rate
    for subject, least in RATIOS.items():
        rate = _median(results[1, subject]).rate
        verdict = "PASS" if rate / health >= least else "MISS"
        lines.append(
            f"{verdict}  one process: {subject} ≥ {least:g}× GET /health — "
            f"{rate:,.0f}/s = {rate / health:.2f}× ({health:,.0f}/s)"
        )
    one, two = (_median(results[w, "POST /jobs"]).rate for w in (1, 2))
    verdict = "PASS" if two / one >= TWO_PROCESSES else "MISS"
    lines.append(
        f"{verdict}  POST /jobs, 2 processes ≥ {TWO_PROCESSES:g}× 1 — "
        f"{two:,.0f}/s = {two / one:.2f}× ({one:,.0f}/s)"
    )
    health_two = _median(results[2, "GET /health"]).rate
    lines.append(f"      (GET /health, 2 processes / 1: {health_two / health:.2f}×)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
