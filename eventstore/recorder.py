"""The PostgreSQL recorder: the library's table and lock, with a leaner insert of our own.

Why not the library's ``insert_events``:
- it sends everything in psycopg's pipeline mode, which deadlocks on a large payload (an event
  of a few hundred kilobytes hangs the connection forever; psycopg issue #685), and one hung
  insert would stall the command executor for every aggregate;
- it retries on OperationalError, which repeats a commit whose outcome was unknown;
- it spends more Python time per transaction than the statements need.

This insert keeps the library's guarantees: the same ``LOCK TABLE … IN EXCLUSIVE MODE`` (commit
order equals notification order, so readers never skip a late commit), the same NOTIFY, the
same table and ids. It also writes ``idempotency=[IdempotencyRecord, ...]`` in the same
transaction: each outcome gets the position of its command's last event, and a key recorded
before fails the whole transaction with an IntegrityError, which the executor treats like a
version conflict (it retries, then finds the key).
"""

import contextlib
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.types.json import Jsonb

from eventstore.records import IdempotencyRecord

INSERT_EVENTS = """
    INSERT INTO {table} (originator_id, originator_version, topic, state)
    SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[])
    RETURNING notification_id
"""
INSERT_OUTCOMES = """
    INSERT INTO command_idempotency (key, fingerprint, outcome)
    SELECT * FROM unnest(%s::text[], %s::text[], %s::jsonb[])
"""


class IdempotentRecorder(PostgresApplicationRecorder):
    """Inserts events (and idempotency outcomes) in one short transaction, three round trips."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        table = f'"{self.datastore.schema}"."{self.events_table_name}"'
        self._begin_and_lock = (
            f"BEGIN; SET LOCAL lock_timeout = '{self.datastore.lock_timeout}s'; "
            f'LOCK TABLE {table} IN EXCLUSIVE MODE; NOTIFY "{self.channel_name}"'
        )
        self._insert = INSERT_EVENTS.format(table=table)

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        records: Sequence[IdempotencyRecord] = kwargs.get("idempotency") or ()
        with self.datastore.get_connection() as conn, conn.cursor() as cur:
            try:
                ids = self._insert_all(cur, stored_events, records)
            except BaseException:
                with contextlib.suppress(Exception):  # a broken connection is discarded anyway
                    cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
        return ids or None

    def _insert_all(
        self,
        cur: Cursor[Any],
        events: Sequence[StoredEvent],
        records: Sequence[IdempotencyRecord],
    ) -> list[int]:
        if not events:
            cur.execute("BEGIN")
            _insert_outcomes(cur, records, [])
            return []
        cur.execute(self._begin_and_lock)
        cur.execute(
            self._insert,
            (
                [e.originator_id for e in events],
                [e.originator_version for e in events],
                [e.topic for e in events],
                [e.state for e in events],
            ),
        )
        ids = [row["notification_id"] for row in cur.fetchall()]
        _insert_outcomes(cur, records, ids)
        return ids


def _insert_outcomes(
    cur: Cursor[Any], records: Sequence[IdempotencyRecord], ids: list[int]
) -> None:
    if not records:
        return
    cur.execute(
        INSERT_OUTCOMES,
        (
            [r.key for r in records],
            [r.fingerprint for r in records],
            [Jsonb(r.stored(ids)) for r in records],
        ),
    )
