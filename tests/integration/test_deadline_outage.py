"""The deadline loop through a database outage: one WARNING line when it starts, one INFO
line when it ends, never a traceback a poll."""

import logging
from collections.abc import Iterator

import pytest
from psycopg_pool import ConnectionPool

from projections.deadlines.scheduler import DeadlineScheduler
from tests.conftest import wait_until
from tests.integration.gate import Gate

LOGGER = "projections.deadlines.scheduler"


@pytest.fixture
def gate(clean_dsn) -> Iterator[Gate]:
    closed = Gate(clean_dsn)
    yield closed
    closed.shut()


@pytest.fixture
def scheduler(gate) -> Iterator[DeadlineScheduler]:
    pool = ConnectionPool(
        gate.dsn, min_size=1, max_size=1, timeout=0.2, reconnect_timeout=60, open=False
    )
    pool.open(wait=False)
    # Nothing is due in an empty database: the executor is never reached.
    running = DeadlineScheduler(
        pool,
        None,  # type: ignore[arg-type]
        upload_timeout=60,
        stall_timeout=60,
        queue_timeout=60,
        lease_max_attempts=3,
        poll_seconds=0.05,
    ).start()
    yield running
    running.stop()
    pool.close()


def deadline_logs(caplog, level=logging.INFO):
    return [r for r in caplog.records if r.name == LOGGER and r.levelno >= level]


def failures(caplog):
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.DEBUG]


def test_an_outage_is_one_warning_line_and_its_end_one_info_line(gate, scheduler, caplog):
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    wait_until(lambda: len(failures(caplog)) >= 5, what="the loop to fail five times more")

    gate.open()
    wait_until(lambda: len(deadline_logs(caplog)) >= 2, what="the loop to recover")

    warning, recovered = deadline_logs(caplog)
    assert (warning.levelno, warning.exc_info) == (logging.WARNING, None)
    assert "\n" not in warning.getMessage()
    assert warning.getMessage().startswith("deadlines paused by an outage")
    assert (recovered.levelno, recovered.getMessage()) == (logging.INFO, "deadlines fire again")
