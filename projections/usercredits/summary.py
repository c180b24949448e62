"""``user_summary``: one row per user, what ``GET /me`` answers from."""

from typing import Any

from psycopg import Cursor

from domain.plans import get_plan
from domain.usercredits import UserCredits

INSERT = """
    INSERT INTO user_summary (user_id, plan, credits, reserved_credits, active_jobs,
        max_concurrent_jobs, rule_slots_used, rule_slots_limit, version, created_at, updated_at)
    VALUES (%s, %s, %s, 0, 0, %s, 0, %s, %s, %s, %s)
"""
ADJUST = """
    UPDATE user_summary SET credits = credits + %s, reserved_credits = reserved_credits + %s,
        active_jobs = active_jobs + %s, rule_slots_used = rule_slots_used + %s,
        version = %s, updated_at = %s
    WHERE user_id = %s
"""
# The day's count of a kind of use: one more the same UTC day, else the first of a new day.
USE_QUOTA = """
    UPDATE user_summary SET usage = jsonb_set(usage, ARRAY[%(kind)s], jsonb_build_array(
            %(day)s::text,
            CASE WHEN usage -> %(kind)s ->> 0 = %(day)s
                THEN (usage -> %(kind)s ->> 1)::int + 1 ELSE 1 END)),
        version = %(version)s, updated_at = %(at)s
    WHERE user_id = %(user_id)s
"""
CHANGE_PLAN = """
    UPDATE user_summary SET plan = %s, max_concurrent_jobs = %s, rule_slots_limit = %s,
        version = %s, updated_at = %s
    WHERE user_id = %s
"""


class UserSummaryProjection:
    """Keeps ``user_summary`` equal to the fold of each user's UserCredits events."""

    name = "user_summary"
    tables = ("user_summary",)  # what a rebuild recreates
    handles = (UserCredits.Event,)  # the events it applies; the others are not even decoded

    def project(self, cur: Cursor[Any], position: int, event: Any) -> None:
        if isinstance(event, UserCredits.Created):
            plan = get_plan(event.plan)
            cur.execute(
                INSERT,
                (
                    event.originator_id,
                    plan.name,
                    event.credits,
                    plan.max_concurrent_jobs,
                    plan.rule_slots,
                    event.originator_version,
                    event.timestamp,
                    event.timestamp,
                ),
            )
        elif isinstance(event, UserCredits.PlanChanged):
            plan = get_plan(event.plan)
            cur.execute(
                CHANGE_PLAN,
                (
                    plan.name,
                    plan.max_concurrent_jobs,
                    plan.rule_slots,
                    event.originator_version,
                    event.timestamp,
                    event.originator_id,
                ),
            )
        elif isinstance(event, UserCredits.QuotaUsed):
            cur.execute(
                USE_QUOTA,
                {
                    "kind": event.kind,
                    "day": event.day,
                    "version": event.originator_version,
                    "at": event.timestamp,
                    "user_id": event.originator_id,
                },
            )
        elif (change := _adjustment(event)) is not None:
            cur.execute(
                ADJUST, (*change, event.originator_version, event.timestamp, event.originator_id)
            )


def _adjustment(event: Any) -> tuple[int, int, int, int] | None:
    """(credits, reserved, active jobs, rule slots) deltas of a UserCredits event."""
    if isinstance(event, UserCredits.Granted):
        return event.amount, 0, 0, 0
    if isinstance(event, UserCredits.Reserved):
        return -event.amount, event.amount, 1, 0
    if isinstance(event, UserCredits.Committed):
        return event.refunded, -(event.consumed + event.refunded), -1, 0
    if isinstance(event, UserCredits.RolledBack):
        return event.refunded, -event.refunded, -1, 0
    if isinstance(event, UserCredits.RuleSlotTaken):
        return 0, 0, 0, 1
    if isinstance(event, UserCredits.RuleSlotFreed):
        return 0, 0, 0, -1
    return None
