"""The scenario that wrote events_v3.json: ``UserCredits.Granted`` at class_version 2 (source).

It was run once, on the working tree of issue 8's first pass (on top of the commit that
holds events_v2.json), with ``PYTHONPATH=<checkout> python scenario_v3.py <source>
events_v3.json`` on the library's in-memory store. Never run it again over v3: the fixture is
what this code stored, and later code must load it as it is. events_v1.json keeps the grant
of class_version 1 (no source), which loads through ``Granted.upcast_v1_v2``.
"""

import json
import sys
from uuid import UUID

from eventsourcing.domain import Snapshot

from domain.base import recording_metadata
from domain.usercredits import UserCredits
from eventstore.application import Chronicle

BUYER = UUID("00000000-0000-4000-8000-000000000003")
METADATA = {"actor": "golden", "correlation_id": "corr-3", "causation_id": "cause-3"}


def scenario() -> list:
    buyer = UserCredits.open(BUYER, "free", 10)
    buyer.grant(100, "top-up of 100", "purchase")
    buyer.grant(5, "launch week", "promotion")
    buyer.grant(1, "support ticket", "admin")
    return [buyer]


def row(stored) -> dict:
    return {
        "originator_id": str(stored.originator_id),
        "originator_version": stored.originator_version,
        "topic": stored.topic,
        "state": stored.state.decode("utf-8"),
    }


def main(source: str, path: str) -> None:
    app = Chronicle()
    with recording_metadata(METADATA):
        aggregates = scenario()
    app.save(*aggregates)
    events = [row(s) for a in aggregates for s in app.recorder.select_events(a.id)]
    snapshots = [row(app.mapper.to_stored_event(Snapshot.take(a))) for a in aggregates]
    about = (
        f"Stored events and snapshots as {source} wrote them (chronicle_events / "
        "chronicle_snapshots rows: state is the JSON transcoder's UTF-8 text). Never edit: "
        "today's code must load them."
    )
    with open(path, "w", encoding="utf-8") as out:
        json.dump(
            {"about": about, "events": events, "snapshots": snapshots},
            out,
            indent=1,
            ensure_ascii=False,
        )
        out.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
