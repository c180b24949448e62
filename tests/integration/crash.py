"""Run ``chronicle projections run`` in a subprocess and SIGKILL it while it makes progress."""

import os
import signal
import subprocess
import sys
from collections.abc import Callable

from tests.conftest import TEST_SECRET, wait_until


def run_projector_process(
    dsn: str, batch_size: int, extra_env: dict[str, str] | None = None
) -> subprocess.Popen:
    env = {
        **os.environ,
        "CHRONICLE_DATABASE_URL": dsn,
        "CHRONICLE_PROJECTOR_BATCH_SIZE": str(batch_size),
        "CHRONICLE_JWT_SECRET": TEST_SECRET,
        # The test server admits 92 (max_connections 100); the plan of the default 32 threads
        # with every consumer no longer fits in it, and connections are not what this tests.
        "CHRONICLE_THREADS": "16",
        **(extra_env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "projections", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill_while_advancing(dsn: str, progress: Callable[[], int], last: int, times: int = 3) -> int:
    """Start the projectors ``times`` times, killing each once ``progress()`` moved; return how
    many kills landed before ``last``, that is mid-way."""
    kills_mid_way = 0
    for _ in range(times):
        before = progress()
        process = run_projector_process(dsn, batch_size=3)
        try:
            wait_until(
                lambda p=process, b=before: _moved(p, progress, b),
                timeout=60,
                what="the projectors to advance",
            )
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        kills_mid_way += progress() < last
    return kills_mid_way


def run_until(dsn: str, progress: Callable[[], int], target: Callable[[], int]) -> None:
    """Run the projectors until ``progress()`` reaches ``target()``, then stop them."""
    process = run_projector_process(dsn, batch_size=500)
    try:
        wait_until(lambda: progress() >= target(), timeout=60, what="the projectors to catch up")
    finally:
        process.terminate()
        process.wait()


def _moved(process: subprocess.Popen, progress: Callable[[], int], before: int) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"the projectors exited: {process.stderr.read().decode()[-2000:]}")
    return progress() > before
