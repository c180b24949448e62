"""The PostgreSQL recorder, extended to record idempotency keys in the events' transaction."""

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.types.json import Jsonb

INSERT_IDEMPOTENCY = """
    INSERT INTO command_idempotency (key, fingerprint, outcome)
    SELECT * FROM unnest(%s::text[], %s::text[], %s::jsonb[])
"""


class IdempotentRecorder(PostgresApplicationRecorder):
    """Writes ``idempotency=[(key, fingerprint, outcome, event_indexes), ...]`` with the events.

    Each outcome gets the position of the last of its command's events (the indexes point
    into the saved events). A key recorded before makes the whole transaction fail with an
    IntegrityError, which the command executor treats like a version conflict: it retries
    and then finds the key.
    """

    def _insert_events(
        self, curs: Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        if not stored_events:
            _insert_outcomes(curs, kwargs.get("idempotency"), [])
        super()._insert_events(curs, stored_events, **kwargs)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        with curs.connection.pipeline():
            _insert_outcomes(curs, kwargs.get("idempotency"), list(ids or []))
        return ids


def _insert_outcomes(curs: Cursor[Any], records: Any, ids: list[int]) -> None:
    if not records:
        return
    keys, fingerprints, outcomes = [], [], []
    for key, fingerprint, outcome, indexes in records:
        keys.append(key)
        fingerprints.append(fingerprint)
        position = max((ids[i] for i in indexes), default=None)
        outcomes.append(Jsonb({**outcome, "position": position}))
    curs.execute(INSERT_IDEMPOTENCY, (keys, fingerprints, outcomes))
