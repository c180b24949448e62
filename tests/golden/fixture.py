"""How a golden scenario is written: its aggregates' stored events and snapshots, as JSON rows."""

import json
from collections.abc import Callable
from typing import Any

from eventsourcing.domain import Snapshot

from domain.base import recording_metadata
from eventstore.application import Chronicle

ABOUT = (
    "Stored events and snapshots as {source} wrote them (chronicle_events / chronicle_snapshots "
    "rows: state is the JSON transcoder's UTF-8 text). Never edit: today's code must load them."
)


def row(stored: Any) -> dict[str, Any]:
    return {
        "originator_id": str(stored.originator_id),
        "originator_version": stored.originator_version,
        "topic": stored.topic,
        "state": stored.state.decode("utf-8"),
    }


def write(scenario: Callable[[], list[Any]], metadata: dict[str, str], source: str, path: str):
    """Run ``scenario`` under ``metadata`` on the in-memory store and write its rows to ``path``."""
    app = Chronicle()
    with recording_metadata(metadata):
        aggregates = scenario()
    app.save(*aggregates)
    events = [row(s) for a in aggregates for s in app.recorder.select_events(a.id)]
    snapshots = [row(app.mapper.to_stored_event(Snapshot.take(a))) for a in aggregates]
    about = ABOUT.format(source=source)
    with open(path, "w", encoding="utf-8") as out:
        json.dump(
            {"about": about, "events": events, "snapshots": snapshots},
            out,
            indent=1,
            ensure_ascii=False,
        )
        out.write("\n")
