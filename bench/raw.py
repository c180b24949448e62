"""Baseline (a): psycopg 3, one event per autocommit INSERT, into a copy of the real table."""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, datetime
from uuid import UUID, uuid4

import psycopg
from psycopg.errors import UniqueViolation

from bench.harness import Abandoned, Client, Scenario, Tally

CREATE_TABLE = """
    CREATE TABLE IF NOT EXISTS bench_raw_events (
        originator_id uuid NOT NULL,
        originator_version bigint NOT NULL,
        topic text,
        state bytea,
        notification_id bigserial,
        PRIMARY KEY (originator_id, originator_version)
    );
    CREATE UNIQUE INDEX IF NOT EXISTS bench_raw_events_notification_id_idx
        ON bench_raw_events (notification_id ASC);
"""
INSERT = """
    INSERT INTO bench_raw_events (originator_id, originator_version, topic, state)
    VALUES (%s, %s, %s, %s) RETURNING notification_id
"""
HEAD = "SELECT max(originator_version) FROM bench_raw_events WHERE originator_id = %s"
AUDIT = "SELECT count(*), max(originator_version) FROM bench_raw_events WHERE originator_id = %s"
TOPIC = "domain.usercredits:UserCredits.Reserved"
GRACE_SECONDS = 1.0


def create_table(dsn: str) -> None:
    """Create the baseline's own events table (the real one's shape, no other writer)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(CREATE_TABLE)


def payload() -> bytes:
    """A stored event's state shaped like the library's JSON of ``UserCredits.Reserved``."""
    return json.dumps(
        {
            "timestamp": {"_type_": "datetime_iso", "_data_": datetime.now(UTC).isoformat()},
            "metadata": {"actor": "system", "correlation_id": "", "causation_id": ""},
            "job_id": str(uuid4()),
            "amount": 1,
        },
        separators=(",", ":"),
    ).encode()


class RawSession:
    """One connection per client; distinct streams, or one stream with an expected version."""

    def __init__(self, dsn: str, scenario: Scenario) -> None:
        self._dsn = dsn
        self._connections = [psycopg.connect(dsn, autocommit=True) for _ in range(scenario.clients)]
        hot = uuid4()
        self.streams = [hot if scenario.hot else uuid4() for _ in range(scenario.clients)]
        self.acked = [0] * scenario.clients
        build = self._hot_client if scenario.hot else self._own_stream_client
        self.clients: list[Client] = [build(i) for i in range(scenario.clients)]

    def _own_stream_client(self, index: int) -> Client:
        conn, stream, versions = self._connections[index], self.streams[index], itertools.count(1)

        def iteration(tally: Tally, deadline: float) -> None:
            version = next(versions)
            if tally.measure(lambda: conn.execute(INSERT, (stream, version, TOPIC, payload()))):
                self.acked[index] += 1

        return iteration

    def _hot_client(self, index: int) -> Client:
        conn, stream = self._connections[index], self.streams[index]

        def iteration(tally: Tally, deadline: float) -> None:
            if tally.measure(lambda: _append_expected(conn, stream, tally, deadline)):
                self.acked[index] += 1

        return iteration

    @property
    def per_transaction(self) -> float:
        """Events per transaction: one, by definition of this baseline."""
        return 1.0

    def check(self) -> list[str]:
        """Each stream holds exactly the acknowledged events, versions 1..n with no gap."""
        acked: dict[UUID, int] = {}
        for stream, count in zip(self.streams, self.acked, strict=True):
            acked[stream] = acked.get(stream, 0) + count
        problems = []
        with psycopg.connect(self._dsn) as conn:
            for stream, expected in acked.items():
                count, top = conn.execute(AUDIT, (stream,)).fetchone() or (0, None)
                if count != expected or (top or 0) != count:
                    problems.append(
                        f"raw stream {stream}: {count} rows up to version {top}, {expected} acked"
                    )
        return problems

    def close(self) -> None:
        for conn in self._connections:
            conn.close()


def _append_expected(conn: psycopg.Connection, stream: UUID, tally: Tally, deadline: float) -> None:
    """Read the stream's head and insert head + 1; on a lost race read again."""
    while True:
        row = conn.execute(HEAD, (stream,)).fetchone()
        head = row[0] if row and row[0] is not None else 0
        try:
            conn.execute(INSERT, (stream, head + 1, TOPIC, payload()))
            return
        except UniqueViolation:
            tally.conflicts += 1
            if time.perf_counter() > deadline + GRACE_SECONDS:
                raise Abandoned from None
