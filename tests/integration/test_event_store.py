"""Commands through the executor on real PostgreSQL: saved, reloaded, idempotent, metadata kept."""

from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import psycopg
import pytest
from psycopg.types.json import Jsonb

from domain.commands import usercredits as credits
from domain.errors import IdempotencyKeyReused, InsufficientCredits, RuleSlotLimitReached
from eventstore.application import open_application
from eventstore.executor import CommandExecutor
from eventstore.idempotency import Idempotency
from tests.conftest import in_one_batch


def stored_outcome(dsn, key):
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT outcome FROM command_idempotency WHERE key = %s", (key,)
        ).fetchone()[0]


def test_saved_aggregates_reload_in_a_fresh_application(executor, clean_dsn):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    executor.execute(credits.ReserveCredits(user_id, "job-1", 4))
    executor.execute(credits.CommitCredits(user_id, "job-1", 3))
    fresh = open_application(clean_dsn, pool_size=1)
    try:
        reloaded = fresh.repository.get(user_id)
    finally:
        fresh.close()
    assert (reloaded.available, reloaded.reserved, reloaded.version) == (7, 0, 3)


def test_positions_grow_with_each_command(executor):
    user_id = uuid4()
    first = executor.execute(credits.OpenAccount(user_id, "free", 10)).position
    second = executor.execute(credits.GrantCredits(user_id, 1, "x")).position
    assert second > first > 0


def test_an_idempotency_key_returns_the_first_outcome_after_a_restart(app, clean_dsn):
    user_id = uuid4()
    key = Idempotency("admin:a:grant-1", "fingerprint")
    first_executor = CommandExecutor(app)
    first_executor.execute(credits.OpenAccount(user_id, "free", 10))
    grant = credits.GrantCredits(user_id, 5, "gift")
    first = first_executor.execute(grant, idempotency=key)
    first_executor.close()
    restarted = CommandExecutor(app)
    try:
        again = restarted.execute(grant, idempotency=key)
    finally:
        restarted.close()
    assert again.replayed and again.record == first.record and again.position == first.position
    assert app.repository.get(user_id).available == 15


def test_a_refused_command_is_refused_again_under_its_key(executor, app):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    key = Idempotency("user:u:reserve-1", "fp")
    with pytest.raises(InsufficientCredits):
        executor.execute(credits.ReserveCredits(user_id, "job", 50), idempotency=key)
    executor.execute(credits.GrantCredits(user_id, 100, "top up"))
    with pytest.raises(InsufficientCredits):
        executor.execute(credits.ReserveCredits(user_id, "job", 50), idempotency=key)
    assert app.repository.get(user_id).reserved == 0


def test_a_refusal_is_stored_under_its_error_code(executor, clean_dsn):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    key = Idempotency("user:u:reserve-2", "fp")
    with pytest.raises(InsufficientCredits) as raised:
        executor.execute(credits.ReserveCredits(user_id, "job", 50), idempotency=key)
    outcome = stored_outcome(clean_dsn, key.key)
    assert outcome["error"] == {"code": "insufficient_credits", "message": raised.value.message}


def test_an_outcome_stored_by_the_first_revision_still_replays(executor, clean_dsn):
    """Rows written before error codes named the error's Python class."""
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    old = {"error": {"type": "RuleSlotLimitReached", "message": "no slot left"}, "position": 1}
    with psycopg.connect(clean_dsn) as conn:
        conn.execute(
            "INSERT INTO command_idempotency (key, fingerprint, outcome) VALUES (%s, %s, %s)",
            ("user:u:old", "fp", Jsonb(old)),
        )
    with pytest.raises(RuleSlotLimitReached, match="no slot left"):
        executor.execute(
            credits.TakeRuleSlot(user_id, "r1"), idempotency=Idempotency("user:u:old", "fp")
        )


def test_a_key_reused_with_another_request_is_refused(executor):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    executor.execute(credits.GrantCredits(user_id, 1, "a"), idempotency=Idempotency("k", "one"))
    with pytest.raises(IdempotencyKeyReused):
        executor.execute(credits.GrantCredits(user_id, 2, "b"), idempotency=Idempotency("k", "two"))


def test_the_same_key_from_two_executors_at_once_runs_the_command_once(app):
    user_id = uuid4()
    first, second = CommandExecutor(app), CommandExecutor(app)
    try:
        first.execute(credits.OpenAccount(user_id, "free", 10))
        key = Idempotency("admin:a:k", "fp")
        grant = credits.GrantCredits(user_id, 7, "once")
        with ThreadPoolExecutor(8) as pool:
            outcomes = list(
                pool.map(
                    lambda n: (first if n % 2 else second).execute(grant, idempotency=key),
                    range(8),
                )
            )
    finally:
        first.close()
        second.close()
    assert len({o.position for o in outcomes}) == 1
    assert app.repository.get(user_id).available == 17


def test_events_keep_actor_correlation_and_causation(executor, app):
    user_id = uuid4()
    metadata = {"actor": "admin:ann", "correlation_id": "req-9", "causation_id": "request:req-9"}
    executor.execute(credits.OpenAccount(user_id, "free", 10), metadata=metadata)
    (event,) = app.events.get(user_id)
    assert event.metadata == metadata


def test_a_long_stream_loads_from_a_snapshot(executor, app):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "pro", 10_000))
    for n in range(250):
        executor.execute(credits.ReserveCredits(user_id, f"j{n}", 1))
        executor.execute(credits.CommitCredits(user_id, f"j{n}", 1))
    executor.close()  # snapshots are stored in the background; closing flushes them
    snapshots = list(app.snapshots.get(user_id))
    assert snapshots and snapshots[-1].originator_version % 200 == 0
    assert app.repository.get(user_id).available == 10_000 - 250


def test_repeats_of_a_key_in_one_batch_get_the_first_outcome(executor, app):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    key = Idempotency("admin:a:twice", "fp")
    grant = credits.GrantCredits(user_id, 5, "once")
    first, second = in_one_batch(executor, grant, grant, idempotency=key)
    assert first.record == second.record and second.replayed
    assert app.repository.get(user_id).available == 15
