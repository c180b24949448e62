"""The ``chronicle`` command: serve, run projections, migrate, mint admin tokens, read history."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
from pydantic import ValidationError

from api.cli_events import events_cli
from api.settings import Settings

cli = typer.Typer(
    help="Chronicle: event-sourced credits, jobs and tests on PostgreSQL.", no_args_is_help=True
)
projections_cli = typer.Typer(
    help="Run the projectors or see how far behind they are.", no_args_is_help=True
)
admin_cli = typer.Typer(help="Local administration.", no_args_is_help=True)
cli.add_typer(projections_cli, name="projections")
cli.add_typer(admin_cli, name="admin")
cli.add_typer(events_cli, name="events")

Host = Annotated[str | None, typer.Option(help="Bind address (default CHRONICLE_HOST).")]
Port = Annotated[int | None, typer.Option(help="Port (default CHRONICLE_PORT).")]
Workers = Annotated[
    int | None,
    typer.Option(min=1, help="API processes on the one port (default CHRONICLE_WORKERS)."),
]


def _settings(level: int = logging.INFO) -> Settings:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return load_settings()


def load_settings() -> Settings:
    """Settings from the environment, or exit naming each bad CHRONICLE_ variable."""
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "CHRONICLE_" + "_".join(str(p) for p in error["loc"]).upper()
            typer.echo(f"invalid setting {name}: {error['msg']}", err=True)
        raise typer.Exit(2) from None


def _serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    *,
    run_projections: bool,
    factory: str | None = None,
) -> None:
    """Serve until SIGTERM or SIGINT, with the embedded database stopped before the end."""
    from api.serving import serve_until_stopped

    settings = _settings()
    status = serve_until_stopped(
        settings,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        run_projections=run_projections,
        factory=factory,
    )
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

    with database(_settings(), apply_migrations=True):
        typer.echo("migrations applied")


@projections_cli.command("run")
def projections_run() -> None:
    """Run every projector, process manager and the deadline loop until interrupted.

    A second instance of a projector waits as a standby until the active one stops.
    """
    from api.bootstrap import database, services

    settings = _settings()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with database(settings) as dsn, services(settings, dsn, run_projections=True) as built:
        assert built.runner is not None and built.reactors is not None
        names = built.runner.names + built.reactors.names
        typer.echo(f"projecting {', '.join(names)}; Ctrl-C stops")
        stop.wait()


@projections_cli.command("status")
def projections_status() -> None:
    """Each projection's and reactor's position, lag, state, standbys, errors and dead letters.

    State: active, stopped (no instance runs it), failed, not started; a rebuild under way is
    its own row (kind rebuild, state rebuilding).
    """
    from api.bootstrap import database
    from projections.status import projection_status

    with database(_settings(logging.WARNING), apply_migrations=False) as dsn:
        rows = projection_status(dsn)
    typer.echo(
        f"{'name':<20} {'kind':<10} {'position':>10} {'head':>10} {'lag':>8} {'lag s':>8} "
        f"{'state':<11} {'standbys':>8} {'parked':>6} {'waiting':>7}"
    )
    for row in rows:
        typer.echo(
            f"{row['name']:<20} {row['kind']:<10} {row['position']:>10} {row['head']:>10} "
            f"{row['lag']:>8} {row['lag_seconds']:>8.1f} {row['state']:<11} "
            f"{row['standbys']:>8} {row['parked']:>6} {row['waiting']:>7}"
        )
    for row in rows:
        if row["state"] == "failed":
            typer.echo(
                f"{row['name']} stopped at log position {row['failed_position']} "
                f"({row['failed_at']:%Y-%m-%d %H:%M:%S%z}): {row['error']}"
            )


@projections_cli.command("rebuild")
def projections_rebuild(
    name: Annotated[str, typer.Argument(help="The projection (read model) to rebuild.")],
    batch_size: Annotated[int, typer.Option(min=1, help="Events per transaction.")] = 5000,
    restart: Annotated[
        bool, typer.Option(help="Discard an interrupted rebuild's progress and start over.")
    ] = False,
) -> None:
    """Rebuild a read model from position 0 into new tables, then switch to them atomically.

    The current tables keep serving until the switch. An interrupted rebuild resumes where it
    stopped when run again. Reactors (side effects) are refused.
    """
    from api.bootstrap import database
    from eventstore.application import open_application
    from projections.rebuild import RebuildRefused, projection_named, rebuild

    settings = _settings(logging.WARNING)
    try:
        projection = projection_named(name)
    except RebuildRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    with database(settings, apply_migrations=False) as dsn:
        app = open_application(dsn, pool_size=2)
        try:
            done = rebuild(dsn, app, projection, batch_size=batch_size, restart=restart)
        except RebuildRefused as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        finally:
            app.close()
    rate = done.applied / done.seconds if done.seconds else 0.0
    typer.echo(
        f"{done.name} rebuilt: {done.applied} events applied in {done.seconds:.1f} s "
        f"({rate:,.0f}/s); serving new tables from log position {done.position}"
    )


@projections_cli.command("resume")
def projections_resume(
    name: Annotated[str, typer.Argument(help="The failed projection to run again.")],
) -> None:
    """Resume a projection stopped by a poison event, from that event (after a fix)."""
    import psycopg

    from api.bootstrap import database
    from projections.follower import resume

    with (
        database(_settings(logging.WARNING), apply_migrations=False) as dsn,
        psycopg.connect(dsn, autocommit=True) as conn,
    ):
        resumed = resume(conn, name)
    if not resumed:
        typer.echo(f"{name} is not a failed projection", err=True)
        raise typer.Exit(1)
    typer.echo(f"{name} resumed")


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
    typer.echo(issuer.issue(subject, role, ttl=minutes * 60 if minutes else None))


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
    """A reference GPU worker: lease items, derive a JSON result, report it; Ctrl-C stops."""
    import random

    from api.clients.referenceworker import ReferenceWorker, WorkerError

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


if __name__ == "__main__":
    main()
