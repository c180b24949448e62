"""The PostgreSQL recorder: the library's table and lock, with a leaner insert of our own.

Why not the library's ``insert_events``:
- it sends everything in psycopg's pipeline mode, which deadlocks on a large payload (an event
  of a few hundred kilobytes hangs the connection forever; psycopg issue #685), and one hung
  insert would stall the command executor for every aggregate;
- it retries on OperationalError, which repeats a commit whose outcome was unknown;
- it takes three round trips with the table lock held across them, and spends more Python
  time per transaction than the statements need.

This insert is one statement in autocommit, one round trip: a call of the server-side
function ``chronicle_append_events`` (migration 0010). It keeps the library's guarantees: the
same ``LOCK TABLE … IN EXCLUSIVE MODE`` (commit order equals notification order, so readers
never skip a late commit), now held only inside the server; the same NOTIFY, the same table
and ids. It also writes ``idempotency=[IdempotencyRecord, ...]`` in the same transaction: each
outcome gets the position of its command's last event (the rule of ``records.last_position``,
applied by the function), and a key recorded before fails the whole transaction with an
IntegrityError, which the executor treats like a version conflict (it retries, then finds the
key). A broken connection is not retried: the outcome of its commit is unknown.
"""

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.types.json import Jsonb

from eventstore.records import IdempotencyRecord

EVENTS_TABLE = "chronicle_events"  # the function's table and channel (migrations 0001, 0010)
APPEND = """
    SELECT {schema}.chronicle_append_events(
        %s, %s::uuid[], %s::bigint[], %s::text[], %s::bytea[],
        %s::text[], %s::text[], %s::jsonb[], %s::integer[], %s::integer[]
    ) AS ids
"""


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
        pairs = [(n, i) for n, r in enumerate(records, 1) for i in r.event_indexes]
        params = (
            self._lock_wait,
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
            [r.key for r in records],
            [r.fingerprint for r in records],
            [Jsonb(r.outcome) for r in records],
            [n for n, _ in pairs],
            [i for _, i in pairs],
        )
        with self.datastore.get_connection() as conn:
            assert conn.autocommit  # the lock must end with this statement's own transaction
            row = conn.execute(self._append, params).fetchone()
        assert row is not None
        ids: list[int] = row["ids"]
        return ids or None
