"""A command the store cannot hold fails alone: the rest of its batch commits."""

from uuid import uuid4

from domain.commands import usercredits as credits
from domain.errors import InvalidCommand
from eventstore.idempotency import Idempotency
from tests.conftest import in_one_batch_each


def grants_around(user_id, bad, count=20):
    """``count`` keyed grants with ``bad`` in the middle of them."""
    calls = [
        (
            credits.GrantCredits(user_id, 1, "fine"),
            {"idempotency": Idempotency(f"k{n}", "fp")},
        )
        for n in range(count)
    ]
    calls.insert(count // 2, bad)
    return calls


def assert_only_the_bad_one_failed(outcomes, bad_index, app, user_id, count=20):
    bad = outcomes.pop(bad_index)
    assert isinstance(bad, InvalidCommand), bad
    assert "U+0000" in bad.message
    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert app.repository.get(user_id).available == 10 + count


def test_a_key_holding_u0000_fails_alone_in_its_batch(executor, app):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    bad = (
        credits.GrantCredits(user_id, 100, "bad key"),
        {"idempotency": Idempotency("a\x00b", "fp")},
    )
    outcomes = in_one_batch_each(executor, *grants_around(user_id, bad))
    assert_only_the_bad_one_failed(outcomes, 10, app, user_id)


def test_an_outcome_holding_u0000_fails_alone_in_its_batch(executor, app):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))

    def grant_noting(aggregates):
        credits.GrantCredits(user_id, 100, "bad outcome")(aggregates)
        return {"note": "a\x00b"}

    bad = (grant_noting, {"idempotency": Idempotency("fine-key", "fp")})
    outcomes = in_one_batch_each(executor, *grants_around(user_id, bad))
    assert_only_the_bad_one_failed(outcomes, 10, app, user_id)


def test_the_executor_goes_on_after_a_bad_command(executor, app):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 10))
    bad = credits.GrantCredits(user_id, 1, "x")
    outcomes = in_one_batch_each(executor, (bad, {"idempotency": Idempotency("\x00", "fp")}))
    assert isinstance(outcomes[0], InvalidCommand)
    assert executor.execute(credits.GrantCredits(user_id, 1, "after")).result.available == 11
