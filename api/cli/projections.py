"""``chronicle projections``: run the projectors, see how far behind they are, rebuild, resume."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer

from api.cli.settings import configured

projections_cli = typer.Typer(
    help="Run the projectors or see how far behind they are.", no_args_is_help=True
)


@projections_cli.command("run")
def projections_run() -> None:
    """Run every projector, process manager and the deadline loop until interrupted.

    A second instance of a projector waits as a standby until the active one stops.
    """
    from api.bootstrap import connection_plan, database, services
    from eventstore.connections import ConnectionBudgetExceeded

    settings = configured()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    plan = connection_plan(settings, workers=0, run_projections=True)  # it serves no requests
    try:
        with (
            database(settings, plan=plan) as dsn,
            services(settings, dsn, run_projections=True, serve_requests=False) as built,
        ):
            assert built.runner is not None and built.reactors is not None
            names = built.runner.names + built.reactors.names
            typer.echo(f"projecting {', '.join(names)}; Ctrl-C stops")
            stop.wait()
    except ConnectionBudgetExceeded as exc:
        typer.echo(f"not starting: {exc}", err=True)
        raise typer.Exit(2) from None


@projections_cli.command("status")
def projections_status() -> None:
    """Each projection's and reactor's position, lag, state, standbys, errors and dead letters.

    State: active, stopped (no instance runs it), failed, not started; a rebuild under way is
    its own row (kind rebuild, state rebuilding).
    """
    from api.bootstrap import database
    from projections.registry import projection_status

    with database(configured(logging.WARNING), apply_migrations=False) as dsn:
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
    from projections.engine.rebuild import RebuildRefused, rebuild
    from projections.registry import projection_named

    settings = configured(logging.WARNING)
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
    from projections.engine.follower import resume

    with (
        database(configured(logging.WARNING), apply_migrations=False) as dsn,
        psycopg.connect(dsn, autocommit=True) as conn,
    ):
        resumed = resume(conn, name)
    if not resumed:
        typer.echo(f"{name} is not a failed projection", err=True)
        raise typer.Exit(1)
    typer.echo(f"{name} resumed")
