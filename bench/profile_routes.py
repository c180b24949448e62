"""Where a hot route's time goes in the API process, sampled under load with py-spy.

For each route (``POST /jobs/{id}/callback``, ``POST /jobs``, ``GET /me``, ``GET /jobs/{id}``,
and ``GET /health``, the floor of every route) ``--clients`` closed-loop clients load
``chronicle serve`` (a child process) while py-spy samples whichever of its threads holds the
GIL (``--gil``): the shares are of the one core its Python code can use, the bound of one API
process. Each sample goes to the first bucket its stack (leaf first) falls in: database
(psycopg, the pool), JSON, validation (pydantic), JWT, executor (the command executor and the
domain), logging (uvicorn's access log), threads (the thread pool's hand-overs), framework
(uvicorn, starlette, FastAPI, anyio, h11), other. A second table turns the samples into
milliseconds of the GIL held per request, by bucket: each sample stands for 1/``RATE`` s,
divided by the requests answered while py-spy sampled.

``--api`` profiles the two command routes and ``GET /health`` on ``chronicle api`` instead (no
projectors in the process: what ``bench_jobs`` loads). Run: ``.venv/bin/pip install py-spy``
then ``.venv/bin/python -m bench.profile_routes [--api]``.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import httpx

from api.auth import TokenIssuer
from bench.apiserver import bench_tokens, served
from bench.jobload import http_callback, http_clients, http_create_job, http_health
from bench.jobsetup import funded_users, lease_all, queued_job
from bench.library import register_hot_plan
from bench.server import scratch_database
from bench.testsite import wait_caught_up
from eventstore.application import open_application
from eventstore.executor import CommandExecutor

# Leaf first: a sample counts for the innermost frame that matches one of these.
BUCKETS = (
    ("database", ("psycopg", "psycopg_pool")),
    ("JSON", ("json/", "orjson", "jsonable_encoder")),
    ("validation", ("pydantic",)),
    ("JWT", ("jwt/", "api/auth.py")),
    ("executor", ("eventstore/", "domain/", "eventsourcing/")),
    ("logging", ("logging/",)),
    ("threads", ("threading.py", "concurrent/futures", "queue.py")),
    ("framework", ("uvicorn", "starlette", "fastapi", "anyio", "h11", "httptools", "asyncio")),
)
NAMES = [name for name, _ in BUCKETS] + ["other"]
RATE = 250  # py-spy samples per second: one sample stands for 4 ms of the GIL held


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--api",
        action="store_true",
        help="`chronicle api` (no projectors) instead of `serve`: the command routes only, since "
        "the reads' models need the projectors",
    )
    args = parser.parse_args()
    if shutil.which("py-spy") is None and not Path(sys.executable).with_name("py-spy").exists():
        print("py-spy is not installed: .venv/bin/pip install py-spy", file=sys.stderr)
        return 2
    register_hot_plan()
    with (
        scratch_database(None) as dsn,
        tempfile.TemporaryDirectory(prefix="chronicle-profile-") as tmp,
        served(dsn, Path(tmp), "api" if args.api else "serve") as server,
    ):
        app = open_application(dsn, pool_size=4)
        executor = CommandExecutor(app)
        tokens = bench_tokens()
        try:
            loads = _loads(dsn, executor, tokens, args.clients, projected=not args.api)
            if not args.api:
                wait_caught_up(dsn)
            header = "".join(f"{n:>11}" for n in NAMES)
            print(f"{'route':<26}{'req/s':>7}{header}{'samples':>9}")
            per_request = {}
            for route, calls in loads.items():
                shares, total, done = _profile(server.pid, server.url, calls, args)
                cells = "".join(f"{shares.get(n, 0) / total:>10.0%} " for n in NAMES)
                print(f"{route:<26}{done / args.seconds:>7.0f}{cells}{total:>9}", flush=True)
                per_request[route] = {n: shares.get(n, 0) * 1000 / RATE / done for n in NAMES}
            print(f"\nGIL held per request, ms (samples × {1000 / RATE:g} ms ÷ requests answered)")
            print(f"{'route':<33}{header}{'all':>11}")
            for route, ms in per_request.items():
                cells = "".join(f"{ms[n]:>11.3f}" for n in NAMES)
                print(f"{route:<33}{cells}{sum(ms.values()):>11.3f}")
        finally:
            executor.close()
            app.close()
    return 0


def _loads(
    dsn: str, executor: CommandExecutor, tokens: TokenIssuer, clients: int, *, projected: bool
) -> dict:
    job = queued_job(executor, 10_000)  # the preset's most; 8 s of callbacks report about 6,000
    if projected:
        wait_caught_up(dsn)  # the jobs projection writes the queue rows the leases go on
    lease_all(dsn, job, "worker:bench-worker")  # else written here, as bench_jobs does
    worker = tokens.issue("bench-worker", "worker")
    users = funded_users(executor, clients, "bench", 10**9)
    user_tokens = [tokens.issue(str(u), "user") for u in users]
    owner = tokens.issue(str(job.user_id), "user")

    def callback(client: httpx.Client, n: int) -> Callable[[int], object]:
        return http_callback(client, worker, job)  # each index once, over every client

    def me(client: httpx.Client, n: int) -> Callable[[int], object]:
        auth = {"Authorization": f"Bearer {user_tokens[n]}"}
        return lambda i: client.get("/me", headers=auth).raise_for_status()

    def get_job(client: httpx.Client, n: int) -> Callable[[int], object]:
        auth = {"Authorization": f"Bearer {owner}"}
        return lambda i: client.get(f"/jobs/{job.job_id}", headers=auth).raise_for_status()

    def create(client: httpx.Client, n: int) -> Callable[[int], object]:
        return http_create_job(client, user_tokens[n])

    def health(client: httpx.Client, n: int) -> Callable[[int], object]:
        return http_health(client)

    commands = {"POST /jobs/{id}/callback": callback, "POST /jobs": create}
    reads = {"GET /me": me, "GET /jobs/{id}": get_job} if projected else {}
    return {**commands, **reads, "GET /health": health}


def _profile(pid: int, url: str, make: Callable, args: argparse.Namespace) -> tuple[dict, int, int]:
    """Load the server with ``make``'s calls while py-spy samples it: samples per bucket, their
    total, and the requests answered meanwhile."""
    clients = http_clients(url, args.clients)
    stop, claimed = threading.Event(), collections.Counter[int]()
    counter = iter(range(10**9))
    lock = threading.Lock()

    def loop(n: int, client: httpx.Client) -> None:
        call = make(client, n)
        while not stop.is_set():
            with lock:
                index = next(counter)
            call(index)
            claimed[n] += 1

    threads = [threading.Thread(target=loop, args=(n, c)) for n, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    with tempfile.NamedTemporaryFile(suffix=".txt") as out:
        spy = Path(sys.executable).with_name("py-spy")
        command = [str(spy), "record", "-p", str(pid), "-d", str(int(args.seconds)), "--gil"]
        sampling = subprocess.Popen(
            [*command, "-r", str(RATE), "-f", "raw", "-o", out.name, "--nonblocking"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # Count the requests answered while py-spy samples, not while it attaches (about a
        # second): it says when it starts.
        assert sampling.stdout is not None
        said = [sampling.stdout.readline()]
        before = sum(claimed.values())
        said.append(sampling.communicate()[0])
        done = sum(claimed.values()) - before
        if sampling.returncode != 0 or "Sampling process" not in said[0]:
            raise RuntimeError(f"py-spy failed: {''.join(said)}")
        stacks = Path(out.name).read_text().splitlines()
    stop.set()
    for thread in threads:
        thread.join(30)
    for client in clients:
        client.close()
    counts: collections.Counter[str] = collections.Counter()
    for line in stacks:
        stack, _, count = line.rpartition(" ")
        counts[_bucket(stack)] += int(count)
    return counts, sum(counts.values()) or 1, done


def _bucket(stack: str) -> str:
    frames = stack.split(";")[::-1]  # leaf first
    for frame in frames:
        for name, needles in BUCKETS:
            if any(needle in frame for needle in needles):
                return name
    return "other"


if __name__ == "__main__":
    sys.exit(main())
