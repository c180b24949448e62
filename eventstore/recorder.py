"""The PostgreSQL recorder: the library's table and lock, with a leaner insert of our own.

Why not the library's ``insert_events``:
- it sends everything in psycopg's pipeline mode, which deadlocks on a large payload (an event
  of a few hundred kilobytes hangs the connection forever; psycopg issue #685), and one hung
  insert would stall the command executor for every aggregate;
- it retries on OperationalError, which repeats a commit whose outcome was unknown;
- it takes three round trips with the table lock held across them, and spends more Python
  time per transaction than the statements need.

This insert is one statement in autocommit, one round trip: a call of the server-side
function ``chronicle_append_batch`` (migration 0019) with the whole batch as one JSON document,
made by one ``orjson.dumps`` (psycopg adapting nine arrays element by element cost about a fifth
of the writer's client CPU per event); states travel in base64, so the stored bytes are these
bytes. That function unpacks the batch and calls ``chronicle_append_events`` (migration 0010),
which does the append. It keeps the library's guarantees: the same ``LOCK TABLE … IN
EXCLUSIVE MODE`` (commit order equals notification order, so readers never skip a late
commit), now held only inside the server; the same NOTIFY, the same table and ids. It also
writes ``idempotency=[IdempotencyRecord, ...]`` in the same transaction: each outcome gets the
position of its command's last event (the rule of ``records.last_position``, applied by the
function), and a key recorded before fails the whole transaction with an IntegrityError, which
the executor treats like a version conflict (it retries, then finds the key). A broken
connection is not retried: the outcome of its commit is unknown.
"""

import json
from base64 import b64encode
from collections.abc import Sequence
from typing import Any

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from eventstore.records import IdempotencyRecord

EVENTS_TABLE = "chronicle_events"  # the function's table and channel (migrations 0001, 0010)
APPEND = "SELECT {schema}.chronicle_append_batch(%s, %s::jsonb) AS ids"


class IdempotentRecorder(PostgresApplicationRecorder):
    """Appends events (and idempotency outcomes) in one statement: one round trip."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.events_table_name != EVENTS_TABLE:
            raise ValueError(
                f"the append function writes {EVENTS_TABLE}, not {self.events_table_name}"
            )
        self._append = APPEND.format(schema=f'"{self.datastore.schema}"')
        self._lock_wait = f"{self.datastore.lock_timeout}s"

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        records: Sequence[IdempotencyRecord] = kwargs.get("idempotency") or ()
        params = self._params(stored_events, records)
        with self.datastore.get_connection() as conn:
            assert conn.autocommit  # the lock must end with this statement's own transaction
            row = conn.execute(self._append, params).fetchone()
        assert row is not None
        ids: list[int] = row["ids"]
        return ids or None

    def _params(
        self, stored_events: Sequence[StoredEvent], records: Sequence[IdempotencyRecord]
    ) -> tuple[Any, ...]:
        """The parameters of ``self._append``: the lock timeout and the batch."""
        return (self._lock_wait, batch_json(stored_events, records))


def batch_json(stored_events: Sequence[StoredEvent], records: Sequence[IdempotencyRecord]) -> str:
    """The document ``chronicle_append_batch`` unpacks: the events, then the outcomes."""
    batch = {
        "events": [
            [str(e.originator_id), e.originator_version, e.topic, b64encode(e.state).decode()]
            for e in stored_events
        ],
        "outcomes": [[r.key, r.fingerprint, r.outcome, r.event_indexes] for r in records],
    }
    try:
        return orjson.dumps(batch).decode()
    except TypeError:  # an integer past 64 bits, a key not text: json writes them, as psycopg did
        return json.dumps(batch)
