"""Independent folds over the event log, to compare read models against."""

from collections import defaultdict
from typing import Any

from domain.plans import get_plan
from domain.usercredits import UserCredits


def all_events(app: Any) -> list[tuple[int, Any]]:
    """Every (position, event) in the log, in order."""
    found, start = [], 1
    while True:
        batch = app.recorder.select_notifications(start=start, limit=1000)
        if not batch:
            return found
        found.extend((n.id, app.mapper.to_domain_event(n)) for n in batch)
        start = batch[-1].id + 1


def fold_user_summaries(app: Any) -> dict[Any, dict[str, Any]]:
    """user_id -> the user_summary row the events imply."""
    rows: dict[Any, dict[str, Any]] = {}
    for _, event in all_events(app):
        row = rows.get(event.originator_id)
        match event:
            case UserCredits.Created():
                plan = get_plan(event.plan)
                rows[event.originator_id] = {
                    "plan": plan.name,
                    "credits": event.credits,
                    "reserved_credits": 0,
                    "active_jobs": 0,
                    "max_concurrent_jobs": plan.max_concurrent_jobs,
                    "rule_slots_used": 0,
                    "rule_slots_limit": plan.rule_slots,
                }
            case UserCredits.Granted():
                row["credits"] += event.amount
            case UserCredits.Reserved():
                row["credits"] -= event.amount
                row["reserved_credits"] += event.amount
                row["active_jobs"] += 1
            case UserCredits.Committed() | UserCredits.RolledBack():
                row["credits"] += event.refunded
                row["reserved_credits"] -= getattr(event, "consumed", 0) + event.refunded
                row["active_jobs"] -= 1
            case UserCredits.RuleSlotTaken():
                row["rule_slots_used"] += 1
            case UserCredits.RuleSlotFreed():
                row["rule_slots_used"] -= 1
            case UserCredits.PlanChanged():
                plan = get_plan(event.plan)
                row.update(
                    plan=plan.name,
                    max_concurrent_jobs=plan.max_concurrent_jobs,
                    rule_slots_limit=plan.rule_slots,
                )
    return rows


def fold_ledger_counts(app: Any) -> dict[str, int]:
    """How many ledger rows of each kind the events imply."""
    counts: dict[str, int] = defaultdict(int)
    for _, event in all_events(app):
        match event:
            case UserCredits.Created() if event.credits:
                counts["grant"] += 1
            case UserCredits.Granted():
                counts["grant"] += 1
            case UserCredits.Reserved():
                counts["reservation"] += 1
            case UserCredits.Committed():
                counts["commit"] += 1
                counts["refund"] += 1 if event.refunded else 0
            case UserCredits.RolledBack():
                counts["refund"] += 1
    return dict(counts)


def consumed_total(app: Any, user_id: Any) -> int:
    """Credits committed (spent) by ``user_id`` over the whole log."""
    return sum(
        e.consumed
        for _, e in all_events(app)
        if isinstance(e, UserCredits.Committed) and e.originator_id == user_id
    )
