"""Schemas of users, credits and plans."""

from datetime import datetime
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.base import RequestBody
from domain.checks import MAX_TEXT
from domain.plans import PLANS
from domain.quotas import KINDS, Quotas, resets_at
from domain.usercredits import MAX_GRANT
from eventstore.records import Outcome

PlanName = Literal[tuple(PLANS)]  # type: ignore[valid-type]


class AnonSession(BaseModel):
    token: str
    user_id: UUID
    position: int = Field(description="Log position of the account's creation.")


class DailyUse(BaseModel):
    """Today's uses of one kind against the plan's daily quota."""

    used: int = Field(description="Uses on the current UTC day.")
    limit: int | None = Field(description="Uses the plan allows a day; null: no quota.")
    resets_at: datetime = Field(description="When the count starts again: midnight, UTC.")


class Me(BaseModel):
    user_id: UUID
    plan: str
    credits: int = Field(description="Credits available now.")
    reserved_credits: int
    active_jobs: int
    max_concurrent_jobs: int
    rule_slots_used: int
    rule_slots_limit: int
    usage: dict[str, DailyUse] = Field(
        description="Per kind (`jobs`, `assistant_turns`): today's uses against the daily quota."
    )

    @classmethod
    def from_row(cls, row: dict[str, Any], quotas: Quotas, day: str) -> Self:
        """A ``user_summary`` row as the user sees it on ``day`` (a UTC date)."""
        counted = row["usage"]
        usage = {
            kind: DailyUse(
                used=counted[kind][1] if counted.get(kind, [None])[0] == day else 0,
                limit=quotas.limit(row["plan"], kind),
                resets_at=resets_at(day),
            )
            for kind in KINDS
        }
        return cls.model_validate({**row, "usage": usage})


class UserSummary(Me):
    version: int
    created_at: datetime
    updated_at: datetime


class CreditGrant(RequestBody):
    amount: int = Field(gt=0, le=MAX_GRANT)
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class PlanChange(RequestBody):
    plan: PlanName  # type: ignore[valid-type]


class CreditsChanged(BaseModel):
    """A command's answer: the user's credits after it, and where it is in the log."""

    user_id: UUID
    plan: str
    credits: int
    reserved_credits: int
    active_jobs: int
    version: int
    position: int | None = Field(description="Pass as `min_position` to read your write.")

    @classmethod
    def from_outcome(cls, outcome: Outcome[Any]) -> Self:
        """The answer to a credits command (a ``CreditsState``, or an answer stored as given)."""
        credits = outcome.record
        if outcome.answered:
            return cls.model_validate({**credits, "position": outcome.position})
        return cls(
            user_id=credits["user_id"],
            plan=credits["plan"],
            credits=credits["available"],
            reserved_credits=credits["reserved"],
            active_jobs=credits["active_jobs"],
            version=credits["version"],
            position=outcome.position,
        )


class LedgerEntry(BaseModel):
    id: int
    position: int
    kind: str
    job_id: str | None
    amount: int
    delta: int
    reason: str | None
    actor: str
    occurred_at: datetime
