"""UserCredits rules, through its events, with no database."""

import json
from uuid import uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Snapshot

from domain.base import recording_metadata
from domain.errors import (
    ConcurrentJobLimitReached,
    InsufficientCredits,
    InvalidCommand,
    NotFound,
    ReservationSettled,
    RuleSlotLimitReached,
)
from domain.usercredits import MAX_CREDITS, MAX_GRANT, RECENT_SETTLEMENTS, UserCredits


def account(credits: int = 10, plan: str = "free") -> UserCredits:
    return UserCredits.open(uuid4(), plan, credits)


def test_a_new_account_has_its_signup_credits_and_nothing_reserved():
    credits = account(10)
    assert (credits.available, credits.reserved, credits.active_jobs) == (10, 0, 0)


def test_reserve_sets_credits_aside():
    credits = account(10)
    credits.reserve("job-1", 4)
    assert (credits.available, credits.reserved, credits.active_jobs) == (6, 4, 1)


def test_reserve_fails_when_balance_is_short():
    credits = account(3)
    with pytest.raises(InsufficientCredits):
        credits.reserve("job-1", 4)
    assert credits.available == 3 and len(credits.pending_events) == 1


def test_reserve_fails_when_the_plans_concurrent_job_limit_is_reached():
    credits = account(10, "free")
    credits.reserve("job-1", 1)
    credits.reserve("job-2", 1)
    with pytest.raises(ConcurrentJobLimitReached):
        credits.reserve("job-3", 1)


def test_pro_plan_allows_more_concurrent_jobs():
    credits = account(100, "pro")
    for n in range(20):
        credits.reserve(f"job-{n}", 1)
    with pytest.raises(ConcurrentJobLimitReached):
        credits.reserve("job-20", 1)


def test_reserve_again_for_the_same_job_changes_nothing():
    credits = account(10)
    credits.reserve("job-1", 4)
    events = len(credits.pending_events)
    credits.reserve("job-1", 4)
    assert len(credits.pending_events) == events and credits.available == 6


def test_reserve_again_with_another_amount_is_refused():
    credits = account(10)
    credits.reserve("job-1", 4)
    with pytest.raises(InvalidCommand):
        credits.reserve("job-1", 5)


@pytest.mark.parametrize("amount", [0, -1, 1.5, True, "3"])
def test_reserve_needs_a_positive_integer(amount):
    with pytest.raises(InvalidCommand):
        account().reserve("job-1", amount)


def test_commit_spends_what_was_consumed_and_refunds_the_rest():
    credits = account(10)
    credits.reserve("job-1", 6)
    credits.commit("job-1", 4)
    assert (credits.available, credits.reserved, credits.active_jobs) == (6, 0, 0)


def test_commit_is_idempotent_per_job():
    credits = account(10)
    credits.reserve("job-1", 6)
    credits.commit("job-1", 4)
    events = len(credits.pending_events)
    credits.commit("job-1", 4)
    assert len(credits.pending_events) == events and credits.available == 6


def test_commit_cannot_consume_more_than_reserved():
    credits = account(10)
    credits.reserve("job-1", 6)
    with pytest.raises(InvalidCommand):
        credits.commit("job-1", 7)


def test_commit_of_an_unknown_job_is_not_found():
    with pytest.raises(NotFound):
        account().commit("job-9", 1)


def test_rollback_refunds_everything_and_is_idempotent():
    credits = account(10)
    credits.reserve("job-1", 6)
    credits.rollback("job-1")
    credits.rollback("job-1")
    assert (credits.available, credits.reserved) == (10, 0)
    assert sum(isinstance(e, UserCredits.RolledBack) for e in credits.pending_events) == 1


def test_a_settled_reservation_cannot_be_settled_the_other_way():
    credits = account(10)
    credits.reserve("job-1", 6)
    credits.commit("job-1", 6)
    with pytest.raises(ReservationSettled):
        credits.rollback("job-1")


def test_a_settled_job_cannot_reserve_again():
    credits = account(10)
    credits.reserve("job-1", 6)
    credits.rollback("job-1")
    with pytest.raises(ReservationSettled):
        credits.reserve("job-1", 6)


def test_grant_adds_credits_and_needs_a_reason():
    credits = account(10)
    credits.grant(5, "support ticket 12")
    assert credits.available == 15
    with pytest.raises(InvalidCommand):
        credits.grant(5, "  ")


def test_free_plan_has_two_rule_slots():
    credits = account(plan="free")
    credits.take_rule_slot("r1")
    credits.take_rule_slot("r2")
    with pytest.raises(RuleSlotLimitReached):
        credits.take_rule_slot("r3")


def test_pro_plan_has_twenty_rule_slots():
    credits = account(plan="pro")
    for n in range(20):
        credits.take_rule_slot(f"r{n}")
    with pytest.raises(RuleSlotLimitReached):
        credits.take_rule_slot("r20")


def test_taking_and_freeing_a_rule_slot_is_idempotent():
    credits = account()
    credits.take_rule_slot("r1")
    credits.take_rule_slot("r1")
    credits.free_rule_slot("r1")
    credits.free_rule_slot("r1")
    assert credits.rule_ids == []
    assert len(credits.pending_events) == 3


def test_freeing_a_slot_makes_room_for_another_rule():
    credits = account(plan="free")
    credits.take_rule_slot("r1")
    credits.take_rule_slot("r2")
    credits.free_rule_slot("r1")
    credits.take_rule_slot("r3")
    assert credits.rule_ids == ["r2", "r3"]


def test_changing_plan_changes_the_limits():
    credits = account(plan="free")
    credits.change_plan("pro")
    assert credits.plan.rule_slots == 20


def test_an_unknown_plan_is_refused():
    with pytest.raises(InvalidCommand, match="known plans"):
        account().change_plan("gold")


def test_events_carry_the_metadata_of_the_command():
    metadata = {"actor": "admin:ann", "correlation_id": "req-1", "causation_id": "request:req-1"}
    credits = account()
    with recording_metadata(metadata):
        credits.grant(1, "gift")
    assert credits.pending_events[-1].metadata == metadata
    assert credits.pending_events[0].metadata["actor"] == "system"


def test_state_replayed_from_events_equals_the_state_that_made_them():
    credits = account(10, "pro")
    credits.reserve("a", 3)
    credits.reserve("b", 2)
    credits.commit("a", 1)
    credits.rollback("b")
    credits.take_rule_slot("r1")
    app = Application()
    app.save(credits)
    assert app.repository.get(credits.id) == credits


def test_open_refuses_more_than_the_most_an_account_holds():
    with pytest.raises(InvalidCommand, match="1,000,000,000,000"):
        account(MAX_CREDITS + 1)


def test_a_grant_past_the_most_an_account_holds_is_refused_naming_the_limit():
    credits = account(10, "pro")
    credits.reserve("job-1", 10)
    while credits.available + credits.reserved + MAX_GRANT <= MAX_CREDITS:
        credits.grant(MAX_GRANT, "top up")
    events = len(credits.pending_events)

    with pytest.raises(InvalidCommand, match=f"at most {MAX_CREDITS:,} credits"):
        credits.grant(MAX_GRANT, "one too many")

    assert len(credits.pending_events) == events
    assert credits.available + credits.reserved <= MAX_CREDITS


def test_a_grant_larger_than_one_grant_may_be_is_refused():
    with pytest.raises(InvalidCommand, match=f"{MAX_GRANT:,}"):
        account().grant(MAX_GRANT + 1, "too much at once")


def settle_many(credits: UserCredits, count: int, prefix: str = "filler") -> None:
    for n in range(count):
        job_id = f"{prefix}-{n:06d}"
        credits.reserve(job_id, 1)
        if n % 2:
            credits.commit(job_id, 1)
        else:
            credits.rollback(job_id)


def test_only_the_most_recent_settlements_are_remembered():
    credits = account(10_000, "pro")
    credits.reserve("old", 5)
    credits.commit("old", 5)

    settle_many(credits, RECENT_SETTLEMENTS)

    assert len(credits.settled) == RECENT_SETTLEMENTS
    assert (
        "old" not in credits.settled and f"filler-{RECENT_SETTLEMENTS - 1:06d}" in credits.settled
    )


def test_a_forgotten_settlement_is_never_refunded_again():
    credits = account(10_000, "pro")
    credits.reserve("old", 5)
    credits.rollback("old")
    settle_many(credits, RECENT_SETTLEMENTS)
    balance = credits.available

    with pytest.raises(NotFound):
        credits.rollback("old")

    assert (credits.available, credits.holds_reservation("old")) == (balance, False)


def test_the_snapshot_stays_the_same_size_however_many_jobs_settle():
    credits = account(100_000, "pro")
    settle_many(credits, RECENT_SETTLEMENTS, prefix="a")
    first = len(json.dumps(Snapshot.take(credits).state["settled"]))

    settle_many(credits, 3 * RECENT_SETTLEMENTS, prefix="b")

    later = len(json.dumps(Snapshot.take(credits).state["settled"]))
    assert later == first


def test_forgetting_old_settlements_replays_to_the_same_state():
    credits = account(10_000, "pro")
    settle_many(credits, RECENT_SETTLEMENTS + 10)
    app = Application()

    app.save(credits)

    assert app.repository.get(credits.id) == credits
