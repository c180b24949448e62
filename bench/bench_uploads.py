"""Benchmark of upload sessions: one large file in parts against one single PUT, in one run.

Run from the repository root: ``.venv/bin/python -m bench.bench_uploads [--quick] [--s3]``.
The API (``chronicle api``) serves in a child process on a scratch database; the local store
takes uploads through it, and with ``--s3`` the same is measured again against moto's S3 server
(``moto_server``, a child process). Each subject sends the same file, ``--repeats`` times:

- single PUT: the item upload URL of a one-item job, one HTTP PUT of the whole file;
- parts, 1 at a time / N at a time: ``POST /uploads``, every part PUT to its URL,
  ``POST /uploads/{id}/complete`` (the server assembles the file and checks its SHA-256).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.apiserver import served
from bench.server import scratch_database

MIB = 1024 * 1024
TIMEOUT = httpx.Timeout(300.0)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=os.environ.get("CHRONICLE_BENCH_DSN"))
    parser.add_argument("--size-mb", type=int, default=100, help="the file, in MiB")
    parser.add_argument("--part-mb", type=int, default=8, help="the part size, in MiB (≥ 5)")
    parser.add_argument("--parallel", type=int, default=4, help="parts sent at once")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--s3", action="store_true", help="also against moto's S3 server")
    parser.add_argument("--quick", action="store_true", help="20 MiB, one repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.size_mb, args.repeats = 20, 1
    return args


def sign_up(http: httpx.Client) -> dict[str, str]:
    token = http.post("/auth/anon").raise_for_status().json()["token"]
    return {"Authorization": f"Bearer {token}"}


def single_put(http: httpx.Client, data: bytes) -> float:
    """Seconds to PUT the whole file to a one-item job's upload URL."""
    auth = sign_up(http)  # a new user each time: a free plan holds few open jobs
    job = http.post("/jobs", headers=auth, json={"preset": "portrait", "item_count": 1})
    upload = job.raise_for_status().json()
    url, content_type = upload["uploads"][0]["url"], upload["content_type"]
    started = time.perf_counter()
    response = httpx.put(url, content=data, headers={"Content-Type": content_type}, timeout=TIMEOUT)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def in_parts(http: httpx.Client, data: bytes, part_size: int, parallel: int) -> tuple[float, float]:
    """Seconds from opening a session to its completion, and of the completion alone."""
    auth = sign_up(http)
    body = {
        "size": len(data),
        "content_type": "application/octet-stream",
        "sha256": hashlib.sha256(data).hexdigest(),
        "part_size": part_size,
    }
    started = time.perf_counter()
    session = http.post("/uploads", headers=auth, json=body).raise_for_status().json()

    def send(upload: dict) -> None:
        begin = (upload["part_number"] - 1) * part_size
        chunk = data[begin : begin + upload["size"]]
        httpx.put(upload["url"], content=chunk, timeout=TIMEOUT).raise_for_status()

    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(send, session["part_uploads"]))
    completing = time.perf_counter()
    done = http.post(f"/uploads/{session['session_id']}/complete", headers=auth)
    finished = time.perf_counter()
    if done.raise_for_status().json()["state"] != "completed":
        raise RuntimeError(f"the upload did not complete: {done.text}")
    return finished - started, finished - completing


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server in a child process, and a bucket on it; its endpoint URL."""
    import boto3

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    binary = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        client.create_bucket(Bucket="bench")
        yield endpoint
    finally:
        process.terminate()
        process.wait(30)


def empty_bucket(env: dict[str, str]) -> None:
    import boto3

    client = boto3.session.Session().client(
        "s3",
        endpoint_url=env["CHRONICLE_S3_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    listed = client.list_objects_v2(Bucket=env["CHRONICLE_S3_BUCKET"]).get("Contents", [])
    for item in listed:
        client.delete_object(Bucket=env["CHRONICLE_S3_BUCKET"], Key=item["Key"])


def s3_env(endpoint: str) -> dict[str, str]:
    return {
        "CHRONICLE_S3_BUCKET": "bench",
        "CHRONICLE_S3_ENDPOINT_URL": endpoint,
        "CHRONICLE_S3_REGION": "us-east-1",
        "CHRONICLE_S3_ACCESS_KEY_ID": "bench",
        "CHRONICLE_S3_SECRET_ACCESS_KEY": "bench",
        "CHRONICLE_S3_PATH_STYLE": "true",
    }


def measure(url: str, data: bytes, args: argparse.Namespace, tidy: Callable[[], None]) -> dict:
    part_size = args.part_mb * MIB
    subjects: dict[str, Callable[[httpx.Client], tuple[float, float | None]]] = {
        "single PUT": lambda http: (single_put(http, data), None),
        "parts, 1 at a time": lambda http: in_parts(http, data, part_size, 1),
        f"parts, {args.parallel} at a time": lambda http: in_parts(
            http, data, part_size, args.parallel
        ),
    }
    results: dict[str, list[tuple[float, float | None]]] = {name: [] for name in subjects}
    with httpx.Client(base_url=url, timeout=TIMEOUT) as http:
        for _ in range(args.repeats):  # interleaved, so that drift touches every subject alike
            for name, subject in subjects.items():
                results[name].append(subject(http))
                tidy()
    return results


def report(title: str, results: dict, size: int) -> str:
    lines = [
        f"### {title}",
        "",
        "| subject | MiB/s (median) | seconds (median) | of which completing (SHA-256) "
        "| throughput vs single PUT |",
        "|---|---|---|---|---|",
    ]
    base = statistics.median(t for t, _ in results["single PUT"])
    for name, runs in results.items():
        seconds = statistics.median(t for t, _ in runs)
        completing = [c for _, c in runs if c is not None]
        shown = f"{statistics.median(completing):.2f}" if completing else "—"
        lines.append(
            f"| {name} | {size / MIB / seconds:.0f} | {seconds:.2f} | {shown} "
            f"| {base / seconds:.2f}× |"
        )
    return "\n".join(lines)


def run_store(dsn: str, data: bytes, args: argparse.Namespace, env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory(prefix="chronicle-bench-uploads-") as tmp:
        objects = Path(tmp) / "objects"
        limits = {"CHRONICLE_UPLOAD_MAX_BYTES": str(len(data) + MIB)}

        def tidy() -> None:  # what each upload stored, so that memory and disk stay flat
            shutil.rmtree(objects / "files", ignore_errors=True)
            shutil.rmtree(objects / "uploads", ignore_errors=True)
            if "CHRONICLE_S3_BUCKET" in env:
                empty_bucket(env)

        with served(dsn, Path(tmp), command="api", env={**limits, **env}) as server:
            return measure(server.url, data, args, tidy)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR")
    data = os.urandom(args.size_mb * MIB)
    started = time.monotonic()
    sections = []
    with scratch_database(args.dsn) as dsn:
        local = run_store(dsn, data, args, {})
        sections.append(report("local store (through the API)", local, len(data)))
        if args.s3:
            with moto_server() as endpoint:
                s3 = run_store(dsn, data, args, s3_env(endpoint))
            sections.append(report("moto's S3 server (presigned URLs)", s3, len(data)))
    print(
        f"{args.size_mb} MiB file, parts of {args.part_mb} MiB, median of {args.repeats}; "
        f"{os.cpu_count()} cores; took {time.monotonic() - started:.0f} s\n"
    )
    print("\n\n".join(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
