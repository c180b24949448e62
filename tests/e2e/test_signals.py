"""`chronicle serve` stopped by a signal stops its embedded PostgreSQL too, every time.

SIGTERM is how systemd, Docker and Kubernetes stop a service; Ctrl-C sends SIGINT.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import wait_until
from tests.e2e.serving import free_port

CHRONICLE = Path(sys.executable).with_name("chronicle")
STOP_BOUND = 30.0  # seconds for the API, the projectors and the database to stop


@pytest.fixture
def data_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="chronicle-signals-"))  # the server runs as its user
    yield path
    postmaster = _postmaster(path)
    if postmaster is not None:  # a failed test must not leave a server behind
        postmaster.terminate()
    shutil.rmtree(path, ignore_errors=True)


def _postmaster(data_dir: Path) -> psutil.Process | None:
    """The embedded server's postmaster, if one is recorded and running."""
    pid_file = data_dir / "pg" / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        process = psutil.Process(pid)
    except (FileNotFoundError, IndexError, ValueError, psutil.NoSuchProcess):
        return None
    return process if process.status() != psutil.STATUS_ZOMBIE else None


def serve(data_dir: Path) -> tuple[subprocess.Popen[bytes], psutil.Process]:
    """`chronicle serve` on a free port, once it answers; and its embedded postmaster."""
    port = free_port()
    env = {**os.environ, "CHRONICLE_DATA_DIR": str(data_dir), "CHRONICLE_PORT": str(port)}
    with (data_dir / "serve.log").open("ab") as log:
        process = subprocess.Popen([str(CHRONICLE), "serve"], env=env, stdout=log, stderr=log)

    def answers() -> bool:
        assert process.poll() is None, (data_dir / "serve.log").read_text()[-3000:]
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(answers, timeout=120, what="chronicle serve to answer")
    postmaster = _postmaster(data_dir)
    assert postmaster is not None
    return process, postmaster


def stop(process: subprocess.Popen[bytes], signum: int) -> int:
    process.send_signal(signum)
    return process.wait(timeout=STOP_BOUND)


def assert_stopped(data_dir: Path, postmaster: psutil.Process) -> None:
    assert not (data_dir / "pg" / "postmaster.pid").exists()
    assert not postmaster.is_running() or postmaster.status() == psutil.STATUS_ZOMBIE


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_stops_the_embedded_database_every_time(data_dir, signum):
    for _ in range(2):  # a clean stop also leaves nothing recorded that the next one trips on
        process, postmaster = serve(data_dir)

        returncode = stop(process, signum)

        assert returncode == -signum  # ended by the signal, as service managers expect
        assert_stopped(data_dir, postmaster)


def test_a_server_killed_outright_does_not_keep_the_database_running_after_the_next(data_dir):
    killed, postmaster = serve(data_dir)
    killed.kill()  # SIGKILL: no cleanup at all; the database keeps running, its user recorded
    killed.wait(timeout=STOP_BOUND)
    assert postmaster.is_running()

    process, _ = serve(data_dir)  # takes over the running database
    stop(process, signal.SIGTERM)

    assert_stopped(data_dir, postmaster)
