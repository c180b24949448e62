"""`serve --workers N` on the embedded server fits its connections, with operators beside it.

Each API process used to open ~40 connections at start, and the embedded server admitted 100:
a third process, a rebuild or an export met "too many clients". Now the server is started to
hold the plan, and the pools open what they use.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET, wait_until
from tests.e2e.serving import free_port
from tests.e2e.test_signals import _postmaster, assert_stopped, stop
from tests.e2e.twoprocesses import TwoProcesses

CONNECTION_ERRORS = ("too many clients", "remaining connection slots", "lost the LISTEN")


@pytest.fixture
def data_dir():
    path = Path(tempfile.mkdtemp(prefix="chronicle-budget-"))  # the server runs as its user
    yield path
    postmaster = _postmaster(path)
    if postmaster is not None:
        postmaster.terminate()
    shutil.rmtree(path, ignore_errors=True)


def chronicle(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("workers", [3, 4])
def test_serve_with_workers_fits_beside_a_rebuild_and_an_export(data_dir, workers):
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CHRONICLE_")},
        "CHRONICLE_DATA_DIR": str(data_dir),
        "CHRONICLE_PORT": str(port),
        "CHRONICLE_JWT_SECRET": TEST_SECRET,
        "CHRONICLE_DATABASE_WAIT_SECONDS": "30",  # a loaded machine is slow to connect
        # Many sign-ups from one address: the sign-up limit is not what is tested here.
        "CHRONICLE_RATE_LIMIT_SIGNUP": "",
    }
    log = data_dir / "serve.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--workers", str(workers)],
            env=env,
            stdout=out,
            stderr=out,
        )
    served = TwoProcesses(f"http://127.0.0.1:{port}", port, process, log)
    try:
        wait_until(lambda: _started(served, workers), timeout=180, what=f"{workers} processes")
        statuses: list[int] = []
        done = threading.Event()

        def sign_up_until_done() -> None:
            while not done.is_set():  # a new connection each time: any process may answer
                statuses.append(httpx.post(f"{served.url}/auth/anon", timeout=60).status_code)

        clients = [threading.Thread(target=sign_up_until_done) for _ in range(4)]
        for client in clients:
            client.start()
        wait_until(lambda: len(statuses) >= 20, timeout=60, what="sign-ups")
        export = data_dir / "events.jsonl"
        beside = [
            chronicle(env, "projections", "rebuild", "user_summary"),
            chronicle(env, "events", "export", "-o", str(export)),
        ]
        outcomes = [p.communicate(timeout=180) for p in beside]
        done.set()
        for client in clients:
            client.join()
        metrics = httpx.get(f"{served.url}/metrics", timeout=30).text
        postmaster = _postmaster(data_dir)

        returncode = stop(process, signal.SIGTERM)

        assert [p.returncode for p in beside] == [0, 0], outcomes
        assert export.read_text().count("UserCredits.Created") >= 20
        assert set(statuses) == {201}
        assert "chronicle_database_connections_refused_total 0.0" in metrics
        text = log.read_text()
        assert [e for e in CONNECTION_ERRORS if e in text] == [], text[-3000:]
        assert returncode == -signal.SIGTERM
        assert postmaster is not None
        assert_stopped(data_dir, postmaster)
    finally:
        if process.poll() is None:
            process.kill()


def _started(served: TwoProcesses, workers: int) -> bool:
    assert served.process.poll() is None, served.log.read_text()[-3000:]
    return served.log.read_text().count("Application startup complete") >= workers
