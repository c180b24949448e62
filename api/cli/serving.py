"""Serve the API until SIGTERM or SIGINT, and end by that signal once everything has stopped.

uvicorn handles both signals while it serves, then restores the handlers it found and raises
the signal again: with SIGTERM's default handler the process would die right there, before
any cleanup (the embedded PostgreSQL would keep running). The handler installed here turns the
signal into an exception instead, which unwinds the ``with`` blocks; with several API
processes uvicorn's supervisor takes the signals over and returns once its children exited.
"""

from __future__ import annotations

import logging
import signal
import sys
from contextlib import ExitStack
from typing import TYPE_CHECKING

from api.settings import Settings

if TYPE_CHECKING:
    from api.services import Services

STARTUP_FAILURE = 3  # uvicorn's exit status for a server that could not start

log = logging.getLogger(__name__)


class _Stopped(BaseException):
    """A stop signal arrived: unwind every ``with`` block, then end by that signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop_by_unwinding(signum: int, _: object) -> None:
    # Once: a second signal must not cut the cleanup short (the embedded database's stop).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise _Stopped(signum)


def serve_until_stopped(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    run_projections: bool,
    factory: str | None = None,
) -> int:
    """Serve from ``workers`` processes; a stop signal ends this process by that signal.

    With more than one, this process supervises: the API runs in child processes built by
    ``factory`` on this process's database (``api.cli.supervisor``), the projectors and reactors
    (``run_projections``) run here, once, and the database stops after every child exited.
    Returns the exit status when no signal stopped it: 3 when a child could not start.
    """
    from api.bootstrap import connection_plan, database, services
    from api.cli.supervisor import APP_FACTORY, serve_workers

    plan = connection_plan(settings, workers=workers, run_projections=run_projections)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop_by_unwinding)
    try:
        with database(settings, plan=plan) as dsn, ExitStack() as stack:
            if workers == 1:
                built = stack.enter_context(
                    services(settings, dsn, run_projections=run_projections)
                )
                _serve_here(built, host, port)
                return 0
            if run_projections:  # here, the consumers only: the children serve requests
                stack.enter_context(
                    services(settings, dsn, run_projections=True, serve_requests=False)
                )
            stopped_by = serve_workers(
                dsn,
                host=host,
                port=port,
                workers=workers,
                factory=factory or APP_FACTORY,
                grace_seconds=settings.shutdown_grace_seconds,
            )
        if stopped_by is None:
            return STARTUP_FAILURE
        raise _Stopped(stopped_by)
    except _Stopped as stopped:
        # Everything is closed: now end the way the signal asks (systemd reads the status).
        log.info("stopped by signal %d", stopped.signum)
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(stopped.signum, signal.SIG_DFL)
        signal.raise_signal(stopped.signum)
        return -stopped.signum  # not reached: the signal's default action ends the process


def _serve_here(built: Services, host: str, port: int) -> None:
    """The API on ``built`` services, served by uvicorn in this process."""
    import uvicorn

    from api.app import create_app, settle_heap
    from api.cli.supervisor import SERVER_OPTIONS

    config = uvicorn.Config(
        create_app(built),
        host=host,
        port=port,
        **SERVER_OPTIONS,
        timeout_graceful_shutdown=built.settings.shutdown_grace_seconds,
    )
    settle_heap()
    uvicorn.Server(config).run()
