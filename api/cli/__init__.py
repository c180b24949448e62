"""The ``chronicle`` command: serve, run projections, migrate, mint admin tokens, read history."""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer

from api.cli.events import events_cli
from api.cli.projections import projections_cli
from api.cli.settings import configured, load_settings

cli = typer.Typer(
    help="Chronicle: event-sourced credits, jobs and tests on PostgreSQL.", no_args_is_help=True
)
admin_cli = typer.Typer(help="Local administration.", no_args_is_help=True)
cli.add_typer(projections_cli, name="projections")
cli.add_typer(admin_cli, name="admin")
cli.add_typer(events_cli, name="events")

Host = Annotated[str | None, typer.Option(help="Bind address (default CHRONICLE_HOST).")]
Port = Annotated[int | None, typer.Option(help="Port (default CHRONICLE_PORT).")]
STARTUP_REFUSED = 2  # as for an invalid setting: the configuration cannot run here

Workers = Annotated[
    int | None,
    typer.Option(min=1, help="API processes on the one port (default CHRONICLE_WORKERS)."),
]


def _serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    *,
    run_projections: bool,
    factory: str | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT, with the embedded database stopped before the end."""
    from api.cli.serving import serve_until_stopped
    from eventstore.connections import ConnectionBudgetExceeded

    settings = configured()
    try:
        status = serve_until_stopped(
            settings,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers or settings.workers,
            run_projections=run_projections,
            factory=factory,
        )
    except ConnectionBudgetExceeded as exc:
        typer.echo(f"not starting: {exc}", err=True)
        raise typer.Exit(STARTUP_REFUSED) from None
    raise typer.Exit(status)


@cli.command()
def serve(host: Host = None, port: Port = None, workers: Workers = None) -> None:
    """API and projectors (local use); migrates the embedded database.

    With --workers N the API runs in N processes and the projectors once, in the parent.
    """
    _serve(host, port, workers, run_projections=True)


@cli.command()
def api(host: Host = None, port: Port = None, workers: Workers = None) -> None:
    """The API alone, in one process or --workers N; run `chronicle projections run` beside it."""
    _serve(host, port, workers, run_projections=False)


@cli.command()
def migrate() -> None:
    """Apply the database migrations."""
    from api.bootstrap import database

    with database(configured(), apply_migrations=True):
        typer.echo("migrations applied")


@admin_cli.command("token")
def admin_token(
    subject: Annotated[str, typer.Option(help="Who the token is for.")] = "admin",
    role: Annotated[str, typer.Option(help="admin, worker or user.")] = "admin",
    minutes: Annotated[int | None, typer.Option(help="Lifetime (default from settings).")] = None,
) -> None:
    """Print a signed token (for a local setup: it uses this machine's secret)."""
    from api.auth import TokenIssuer, load_secret

    settings = load_settings()
    issuer = TokenIssuer(load_secret(settings), settings)
    try:
        token = issuer.issue(subject, role, ttl=minutes * 60 if minutes else None)
    except ValueError as exc:  # an unknown role, a subject too long to index
        raise typer.BadParameter(str(exc)) from None
    typer.echo(token)


@cli.command()
def worker(
    api: Annotated[str, typer.Option(help="Base URL of the Chronicle API.")] = (
        "http://127.0.0.1:8000"
    ),
    token: Annotated[
        str | None,
        typer.Option(
            envvar="CHRONICLE_WORKER_TOKEN",
            help="A worker token; default: one minted with this machine's secret.",
        ),
    ] = None,
    fail_rate: Annotated[
        float, typer.Option(help="Share of items (0 to 1) reported failed on purpose.")
    ] = 0.0,
    duplicate_rate: Annotated[
        float, typer.Option(help="Share of callbacks (0 to 1) sent twice, same key and body.")
    ] = 0.0,
    batch: Annotated[int, typer.Option(min=1, max=100, help="Items per lease.")] = 10,
    idle_exit: Annotated[
        float | None, typer.Option(min=0, help="Exit after this many seconds without work.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the random choices.")] = None,
) -> None:
    """A reference GPU worker: lease items, derive a JSON result, report it; Ctrl-C stops.

    Follow a job it works on live, as its owner:

        curl -N http://127.0.0.1:8000/jobs/$JOB/events -H "Authorization: Bearer $TOKEN"
    """
    import random

    from worker.reference import ReferenceWorker, WorkerError

    for option, rate in (("--fail-rate", fail_rate), ("--duplicate-rate", duplicate_rate)):
        if not 0.0 <= rate <= 1.0:
            raise typer.BadParameter(f"must be between 0 and 1, not {rate}", param_hint=option)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not one line per request
    if token is None:
        from api.auth import TokenIssuer, load_secret

        settings = load_settings()
        token = TokenIssuer(load_secret(settings), settings).issue("reference-worker", "worker")
    with ReferenceWorker(
        api,
        token,
        fail_rate=fail_rate,
        duplicate_rate=duplicate_rate,
        batch=batch,
        rng=random.Random(seed),
    ) as reference:
        # The first Ctrl-C lets the batch in hand be reported; a second one interrupts.
        def stop(*_: object) -> None:
            reference.stop()
            signal.signal(signal.SIGINT, signal.default_int_handler)

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stop)
        typer.echo(f"working for {api}; Ctrl-C stops", err=True)
        try:
            reference.run(stop_when_idle=idle_exit)
        except WorkerError as exc:
            typer.echo(f"worker stopped: {exc}", err=True)
            raise typer.Exit(1) from None
        finally:
            typer.echo(", ".join(f"{name} {n}" for name, n in reference.counts.items()))


def main() -> None:
    cli()
