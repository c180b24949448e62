"""Use cases on UserCredits, as commands for the executor: ``command(aggregates) -> result``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.base import Aggregates
from domain.usercredits import UserCredits

Command = Callable[[Aggregates], dict[str, Any]]


def summary(credits: UserCredits) -> dict[str, Any]:
    """The user's credits as the client sees them (the shape of ``GET /me``)."""
    return {
        "user_id": str(credits.id),
        "plan": credits.plan_name,
        "credits": credits.available,
        "reserved_credits": credits.reserved,
        "active_jobs": credits.active_jobs,
        "max_concurrent_jobs": credits.plan.max_concurrent_jobs,
        "rule_slots_used": len(credits.rule_ids),
        "rule_slots_limit": credits.plan.rule_slots,
        "version": credits.version,
    }


def open_account(user_id: UUID, plan: str, credits: int) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        account = UserCredits.open(user_id, plan, credits)
        aggregates.add(account)
        return summary(account)

    return run


def grant_credits(user_id: UUID, amount: int, reason: str) -> Command:
    return _on_credits(user_id, lambda c: c.grant(amount, reason))


def change_plan(user_id: UUID, plan: str) -> Command:
    return _on_credits(user_id, lambda c: c.change_plan(plan))


def reserve_credits(user_id: UUID, job_id: str, amount: int) -> Command:
    return _on_credits(user_id, lambda c: c.reserve(job_id, amount))


def commit_credits(user_id: UUID, job_id: str, consumed: int) -> Command:
    return _on_credits(user_id, lambda c: c.commit(job_id, consumed))


def rollback_credits(user_id: UUID, job_id: str) -> Command:
    return _on_credits(user_id, lambda c: c.rollback(job_id))


def take_rule_slot(user_id: UUID, rule_id: str) -> Command:
    return _on_credits(user_id, lambda c: c.take_rule_slot(rule_id))


def free_rule_slot(user_id: UUID, rule_id: str) -> Command:
    return _on_credits(user_id, lambda c: c.free_rule_slot(rule_id))


def _on_credits(user_id: UUID, change: Callable[[UserCredits], None]) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        credits = aggregates.get(UserCredits, user_id)
        change(credits)
        return summary(credits)

    return run
