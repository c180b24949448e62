"""One writer process appending straight through the recorder, for the no-skip test.

``python -m tests.integration.appender DSN WRITER APPENDS`` prints ``ready``, waits for a line
on stdin (so that every writer starts together), makes ``APPENDS`` appends of one to three
new accounts' events (every fifth with an idempotency outcome), and prints a JSON tally.
"""

from __future__ import annotations

import json
import sys
from typing import Any
from uuid import uuid4

from domain.usercredits import UserCredits
from eventstore.records import IdempotencyRecord


def opened_accounts(app: Any, count: int) -> list[Any]:
    """The stored creation events of ``count`` new accounts."""
    return [
        app.mapper.to_stored_event(UserCredits.open(uuid4(), "free", 1).collect_events()[0])
        for _ in range(count)
    ]


def append(app: Any, writer: int, appends: int) -> dict[str, int]:
    """Make ``appends`` appends; how many events and outcomes they stored."""
    events = outcomes = 0
    for k in range(appends):
        stored = opened_accounts(app, 1 + k % 3)
        records = []
        if k % 5 == 0:
            indexes = tuple(range(len(stored)))
            records.append(IdempotencyRecord(f"append-{writer}-{k}", "fp", {}, indexes))
        app.recorder.insert_events(stored, idempotency=records)
        events += len(stored)
        outcomes += len(records)
    return {"appends": appends, "events": events, "outcomes": outcomes}


def main() -> None:
    from eventstore.application import open_application

    dsn, writer, appends = sys.argv[1:4]
    app = open_application(dsn, pool_size=1)
    try:
        print("ready", flush=True)
        sys.stdin.readline()
        print(json.dumps(append(app, int(writer), int(appends))))
    finally:
        app.close()


if __name__ == "__main__":
    main()
