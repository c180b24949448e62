"""The append as it was before migration 0019, for a baseline in the same run: nine arrays.

``ArrayRecorder`` passes ``chronicle_append_events`` (migration 0010, still installed) its
nine arrays, which psycopg adapts element by element; the application's recorder sends one
JSON document to ``chronicle_append_batch`` instead. An application takes it as its recorder
through ``library_env``'s ``APPLICATION_RECORDER_TOPIC``: ``RECORDER_TOPIC``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from psycopg.types.json import Jsonb

from eventstore.recorder import IdempotentRecorder
from eventstore.records import IdempotencyRecord

RECORDER_TOPIC = "bench.arrayappend:ArrayRecorder"
APPEND = """
    SELECT {schema}.chronicle_append_events(
        %s, %s::uuid[], %s::bigint[], %s::text[], %s::bytea[],
        %s::text[], %s::text[], %s::jsonb[], %s::integer[], %s::integer[]
    ) AS ids
"""


class ArrayRecorder(IdempotentRecorder):
    """The application's recorder with the nine-array append of revision 0018."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._append = APPEND.format(schema=f'"{self.datastore.schema}"')

    def _params(
        self, stored_events: Sequence[StoredEvent], records: Sequence[IdempotencyRecord]
    ) -> tuple[Any, ...]:
        pairs = [(n, i) for n, r in enumerate(records, 1) for i in r.event_indexes]
        return (
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
