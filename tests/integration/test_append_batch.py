"""The append as one JSON document (``chronicle_append_batch``) stores what the nine arrays did.

``bench.arrayappend.ArrayRecorder`` is the append of revision 0018 (nine arrays to
``chronicle_append_events``); each test appends the same events through both and compares what
the table holds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg import pq

from bench.arrayappend import RECORDER_TOPIC
from eventstore.application import Chronicle, library_env
from eventstore.records import IdempotencyRecord

TOPIC = "domain.usercredits:UserCredits.Reserved"
STATES = [
    '{"note":"여행 naïve — ✓ 😀","quote":"\\"","escaped":"\\u00e9\\n"}'.encode(),
    b"",
    b'{"blob":"' + b"x" * 600_000 + b'"}',  # a large event (hundreds of kilobytes)
    bytes(range(256)),  # not text at all: bytes travel as bytes
]


@pytest.fixture
def arrays(clean_dsn: str) -> Iterator[Chronicle]:
    """The application on the same database, appending with the nine arrays."""
    application = Chronicle(
        env={**library_env(clean_dsn, pool_size=2), "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC}
    )
    yield application
    application.close()


def events_of(states: list[bytes]) -> list[StoredEvent]:
    """One stream's events, one per state, from version 1."""
    stream = uuid4()
    return [StoredEvent(stream, n, TOPIC, state) for n, state in enumerate(states, 1)]


def stored(dsn: str, stream: UUID) -> list[tuple[int, str, bytes]]:
    """The version, topic and state bytes of ``stream``'s events, in order."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT originator_version, topic, state FROM chronicle_events"
            " WHERE originator_id = %s ORDER BY originator_version",
            (stream,),
        )
        return [(version, topic, bytes(state)) for version, topic, state in rows]


def outcomes(dsn: str) -> dict[str, tuple[str, object]]:
    """Each stored outcome's fingerprint and outcome, by key, without its position."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT key, fingerprint, outcome - 'position' FROM command_idempotency"
        )
        return {key: (fingerprint, outcome) for key, fingerprint, outcome in rows}


def test_both_appends_store_the_same_versions_topics_and_bytes(app, arrays, clean_dsn):
    old, new = events_of(STATES), events_of(STATES)

    arrays.recorder.insert_events(old)
    app.recorder.insert_events(new)

    expected = [(n, TOPIC, state) for n, state in enumerate(STATES, 1)]
    assert stored(clean_dsn, old[0].originator_id) == expected
    assert stored(clean_dsn, new[0].originator_id) == expected


def test_the_ids_come_back_in_the_order_the_events_were_given(app, clean_dsn):
    events = [StoredEvent(uuid4(), 1, TOPIC, b"{}") for _ in range(20)]

    ids = app.recorder.insert_events(events)

    with psycopg.connect(clean_dsn) as conn:
        by_id = dict(conn.execute("SELECT notification_id, originator_id FROM chronicle_events"))
    assert [by_id[i] for i in ids] == [e.originator_id for e in events]


def test_both_appends_store_the_same_outcomes(app, arrays, clean_dsn):
    def records(prefix: str) -> list[IdempotencyRecord]:
        return [
            IdempotencyRecord(
                f"{prefix}-1", "fp-é", {"outcome": {"name": "여행", "n": [1, 2.5]}}, (0, 1)
            ),
            IdempotencyRecord(f"{prefix}-2", "fp", {"error": {"code": "x", "message": "✓"}}, ()),
        ]

    arrays.recorder.insert_events(events_of([b"{}", b"{}"]), idempotency=records("old"))
    ids = app.recorder.insert_events(events_of([b"{}", b"{}"]), idempotency=records("new"))

    stored_outcomes = outcomes(clean_dsn)
    assert {k[4:]: v for k, v in stored_outcomes.items() if k.startswith("new-")} == {
        k[4:]: v for k, v in stored_outcomes.items() if k.startswith("old-")
    }
    with psycopg.connect(clean_dsn) as conn:
        positions = dict(conn.execute("SELECT key, outcome->'position' FROM command_idempotency"))
    assert positions["new-1"] == ids[1] and positions["new-2"] is None


def test_a_version_stored_before_is_refused_as_before(app, arrays, clean_dsn):
    (taken,) = events_of([b"{}"])
    app.recorder.insert_events([taken])
    record = IdempotencyRecord("fresh", "fp", {}, (0,))

    for recorder in (arrays.recorder, app.recorder):
        with pytest.raises(IntegrityError):
            recorder.insert_events([taken], idempotency=[record])

    assert stored(clean_dsn, taken.originator_id) == [(1, TOPIC, b"{}")]
    assert outcomes(clean_dsn) == {}


@contextmanager
def traced(app: Chronicle) -> Iterator[list[str]]:
    """The protocol messages the recorder sends while inside, on one traced connection."""
    datastore = app.recorder.datastore
    with datastore.get_connection() as conn, tempfile.TemporaryFile("w+") as trace:
        original = datastore.get_connection

        @contextmanager
        def this_connection() -> Iterator[psycopg.Connection]:
            yield conn

        datastore.get_connection = this_connection
        lines: list[str] = []
        try:
            for _ in range(6):  # past psycopg's prepare threshold: the statement is prepared
                app.recorder.insert_events(events_of([b"{}"]))
            conn.pgconn.trace(trace.fileno())
            conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
            yield lines
        finally:
            conn.pgconn.untrace()
            datastore.get_connection = original
            trace.seek(0)
            lines.extend(trace.read().splitlines())


def test_an_append_of_events_and_outcomes_is_one_round_trip(app):
    record = IdempotencyRecord("key", "fp", {"outcome": {}}, (0, 2))

    with traced(app) as sent:
        app.recorder.insert_events(events_of([b"{}", b"{}", b"{}"]), idempotency=[record])

    client = [line.split("\t") for line in sent if line.startswith("F")]
    assert [fields[2] for fields in client].count("Sync") == 1
