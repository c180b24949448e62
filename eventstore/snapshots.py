"""Snapshots, stored on a thread of their own so that the command writer never waits for one.

A snapshot is taken on the writer thread from the aggregate as just saved: the state's
top-level containers are copied there (aggregates replace nested values, never mutate them),
then it is encoded and inserted here. A lost snapshot costs only a longer replay.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
from typing import Any

from eventsourcing.domain import Snapshot

log = logging.getLogger(__name__)
_STOP = object()
INSERT = """
    INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES (%s, %s, %s, %s)
    ON CONFLICT DO NOTHING
"""


class SnapshotWriter:
    """Encodes and stores the snapshots it is given, in the order given."""

    def __init__(self, event_store: Any) -> None:
        self._event_store = event_store
        recorder: Any = getattr(event_store.snapshots, "recorder", None)
        self._datastore = getattr(recorder, "datastore", None)  # None: not PostgreSQL
        if self._datastore is not None:
            self._insert = INSERT.format(
                table=f'"{self._datastore.schema}"."{recorder.events_table_name}"'
            )
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="snapshot-writer", daemon=True)
        self._thread.start()

    def submit_if_due(self, aggregate: Any, version_before: int) -> None:
        """Snapshot ``aggregate`` if its last save crossed its class's snapshot interval."""
        interval = getattr(type(aggregate), "snapshot_interval", None)
        if not interval or aggregate.version // interval == version_before // interval:
            return
        try:
            self.submit(aggregate)
        except Exception:  # a lost snapshot costs only a longer replay
            log.warning("snapshot of %s failed", aggregate.id, exc_info=True)

    def submit(self, aggregate: Any) -> None:
        """Snapshot ``aggregate`` as it is now; it is stored shortly after."""
        if self._event_store.snapshots is None:
            return
        snapshot = Snapshot.take(aggregate)
        for name, value in snapshot.state.items():
            if isinstance(value, dict | list):
                snapshot.state[name] = copy.copy(value)
        self._queue.put(snapshot)

    def close(self) -> None:
        """Store what was submitted, then stop."""
        self._queue.put(_STOP)
        self._thread.join()

    def _loop(self) -> None:
        while (snapshot := self._queue.get()) is not _STOP:
            try:
                self._store(snapshot)
            except Exception:
                log.warning(
                    "snapshot of %s at version %s failed",
                    snapshot.originator_id,
                    snapshot.originator_version,
                    exc_info=True,
                )

    def _store(self, snapshot: Any) -> None:
        if self._datastore is None:
            self._event_store.snapshots.put([snapshot])
            return
        stored = self._event_store.mapper.to_stored_event(snapshot)
        with self._datastore.get_connection() as conn:
            conn.execute(
                self._insert,
                (stored.originator_id, stored.originator_version, stored.topic, stored.state),
            )
