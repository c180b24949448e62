"""The one-statement append (``chronicle_append_batch``, then ``chronicle_append_events``)
through the recorder, case by case.

The function computes what the recorder used to: each outcome's position (its command's last
event), the refusal of a key or a version stored before (nothing written), the lock timeout.
"""

from __future__ import annotations

from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError

from domain.usercredits import UserCredits
from eventstore.application import Chronicle, library_env
from eventstore.records import IdempotencyRecord
from tests.integration.appender import opened_accounts


def stored_outcomes(dsn):
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute("SELECT key, outcome FROM command_idempotency").fetchall())


def count_events(dsn):
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT count(*) FROM chronicle_events").fetchone()[0]


def test_each_outcome_is_stored_with_the_position_of_its_commands_last_event(app, clean_dsn):
    records = [
        IdempotencyRecord("first", "fp", {"result": 1}, (0, 2)),
        IdempotencyRecord("second", "fp", {"result": 2}, (1,)),
        IdempotencyRecord("refused", "fp", {"error": "x"}, ()),
    ]
    ids = app.recorder.insert_events(opened_accounts(app, 3), idempotency=records)
    assert len(ids) == 3 and ids == sorted(ids)
    assert stored_outcomes(clean_dsn) == {
        "first": {"result": 1, "position": ids[2]},
        "second": {"result": 2, "position": ids[1]},
        "refused": {"error": "x", "position": None},
    }


def test_outcomes_without_events_are_stored_without_a_position(app, clean_dsn):
    record = IdempotencyRecord("refused", "fp", {"error": "x"}, ())
    assert app.recorder.insert_events([], idempotency=[record]) is None
    assert stored_outcomes(clean_dsn) == {"refused": {"error": "x", "position": None}}
    assert count_events(clean_dsn) == 0


def test_a_key_stored_before_refuses_the_whole_append(app, clean_dsn):
    record = IdempotencyRecord("taken", "fp", {"result": 1}, (0,))
    app.recorder.insert_events(opened_accounts(app, 1), idempotency=[record])
    with pytest.raises(IntegrityError):
        app.recorder.insert_events(opened_accounts(app, 2), idempotency=[record])
    assert count_events(clean_dsn) == 1


def test_a_version_stored_before_refuses_the_whole_append(app, clean_dsn):
    (stored,) = opened_accounts(app, 1)
    app.recorder.insert_events([stored])
    record = IdempotencyRecord("fresh", "fp", {"result": 1}, (1,))
    with pytest.raises(IntegrityError):
        app.recorder.insert_events([*opened_accounts(app, 1), stored], idempotency=[record])
    assert count_events(clean_dsn) == 1 and stored_outcomes(clean_dsn) == {}


def test_an_append_gives_up_after_the_lock_timeout(clean_dsn):
    impatient = Chronicle(env={**library_env(clean_dsn, pool_size=1), "POSTGRES_LOCK_TIMEOUT": "1"})
    account = UserCredits.open(uuid4(), "free", 1)
    with psycopg.connect(clean_dsn) as holder:
        holder.execute("LOCK TABLE chronicle_events IN EXCLUSIVE MODE")
        try:
            with pytest.raises(OperationalError, match="lock timeout"):
                impatient.save(account)
        finally:
            impatient.close()
    assert count_events(clean_dsn) == 0
