"""``chronicle events``: the event history for analysts, exported or replayed (see the README)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from api.cli.settings import load_settings

T = TypeVar("T")
events_cli = typer.Typer(
    help="The event history for analysts: export it, or replay it into your own function.",
    no_args_is_help=True,
)

EventTypes = Annotated[
    list[str] | None,
    typer.Option("--event-type", help="Only this type, e.g. UserCredits.Reserved (repeatable)."),
]
AggregateType = Annotated[str | None, typer.Option(help="Only this aggregate type, e.g. Job.")]
FromPosition = Annotated[int | None, typer.Option(min=0, help="First log position (inclusive).")]
ToPosition = Annotated[int | None, typer.Option(min=0, help="Last log position (inclusive).")]
Since = Annotated[str | None, typer.Option(help="From this RFC 3339 time (inclusive).")]
Until = Annotated[str | None, typer.Option(help="Before this RFC 3339 time (exclusive).")]


def _filters(
    types: list[str] | None,
    aggregate: str | None,
    first: int | None,
    last: int | None,
    **times: Any,
) -> dict[str, Any]:
    """read_events' filters from the options; a bad value exits 2 naming its option."""
    if any("\x00" in text for text in [*(types or ()), aggregate or ""]):
        raise typer.BadParameter(
            "must not contain U+0000", param_hint="--event-type/--aggregate-type"
        )
    moments = {name: _moment(text, f"--{name}") for name, text in times.items()}
    return {
        "event_types": types,
        "aggregate_type": aggregate,
        "from_position": first,
        "to_position": last,
        **moments,
    }


def _moment(text: str | None, option: str) -> datetime | None:
    """An RFC 3339 time with its zone, or exit 2 naming ``option``."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise typer.BadParameter(f"{text!r} is not an RFC 3339 time with a zone", param_hint=option)
    return moment


def _with_progress(events: Iterator[T]) -> Iterator[T]:
    """``events`` as they are, counted on stderr when it is a terminal (quiet otherwise)."""
    if not sys.stderr.isatty():
        yield from events
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.completed:,} events"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        task, count = progress.add_task("events", total=None), 0
        for count, event in enumerate(events, 1):
            yield event
            if count % 1000 == 0:  # not once per event: the bar would cost more than the export
                progress.update(task, completed=count)
        progress.update(task, completed=count)


@events_cli.command("export")
def events_export(
    output: Annotated[str, typer.Option("--output", "-o", help="A file, or - (JSON Lines).")],
    form: Annotated[
        str | None, typer.Option("--format", help="jsonl or parquet (default: by extension).")
    ] = None,
    event_type: EventTypes = None,
    aggregate_type: AggregateType = None,
    from_position: FromPosition = None,
    to_position: ToPosition = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Export the event log, or a part of it, one row per event (see the README)."""
    from api.bootstrap import database
    from eventstore.export import MissingPyArrow, require_pyarrow, write_jsonl, write_parquet
    from eventstore.history import read_events

    form = form or ("parquet" if output.endswith(".parquet") else "jsonl")
    if form not in ("jsonl", "parquet"):
        raise typer.BadParameter(f"{form!r} is not jsonl or parquet", param_hint="--format")
    if form == "parquet" and output == "-":
        raise typer.BadParameter("Parquet needs a file; - writes JSON Lines", param_hint="-o")
    filters = _filters(
        event_type, aggregate_type, from_position, to_position, since=since, until=until
    )
    try:
        if form == "parquet":
            require_pyarrow()
    except MissingPyArrow as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    with database(load_settings(), apply_migrations=False) as dsn:
        events = _with_progress(read_events(dsn, **filters))
        if output == "-":
            count = write_jsonl(events, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        elif form == "jsonl":
            with open(output, "wb") as out:
                count = write_jsonl(events, out)
        else:
            one_type = event_type[0] if event_type and len(set(event_type)) == 1 else None
            count = write_parquet(events, Path(output), event_type=one_type)
    if output != "-":
        typer.echo(f"{count} events written to {output}", err=True)


@events_cli.command("replay")
def events_replay(
    to: Annotated[str, typer.Option(help="Your function, module:function; gets the events.")],
    event_type: EventTypes = None,
    aggregate_type: AggregateType = None,
    from_position: FromPosition = None,
    to_position: ToPosition = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Feed the events, in log order, to your own function and print what it returns."""
    from api.bootstrap import database
    from eventstore.history import FoldNotFound, load_fold, read_events

    filters = _filters(
        event_type, aggregate_type, from_position, to_position, since=since, until=until
    )
    try:
        fold = load_fold(to)
    except FoldNotFound as exc:
        typer.echo(f"--to: {exc}", err=True)
        raise typer.Exit(2) from None
    with database(load_settings(), apply_migrations=False) as dsn:
        result = fold(_with_progress(read_events(dsn, **filters)))
    try:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
    except (TypeError, ValueError):  # not JSON: show what Python would
        typer.echo(repr(result))
