"""Schemas of users, credits and plans."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.base import RequestBody
from domain.checks import MAX_TEXT
from domain.plans import PLANS
from domain.usercredits import MAX_GRANT, UserCredits

PlanName = Literal[tuple(PLANS)]  # type: ignore[valid-type]


class AnonSession(BaseModel):
    token: str
    user_id: UUID
    position: int = Field(description="Log position of the account's creation.")

    @staticmethod
    def present(credits: UserCredits) -> dict[str, Any]:
        """What a sign-up remembers of the new account (a repeat answers the same user)."""
        return {"user_id": str(credits.id)}


class Me(BaseModel):
    user_id: UUID
    plan: str
    credits: int = Field(description="Credits available now.")
    reserved_credits: int
    active_jobs: int
    max_concurrent_jobs: int
    rule_slots_used: int
    rule_slots_limit: int


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

    @staticmethod
    def present(credits: UserCredits) -> dict[str, Any]:
        """The answer's fields besides the position, JSON-ready."""
        return {
            "user_id": str(credits.id),
            "plan": credits.plan_name,
            "credits": credits.available,
            "reserved_credits": credits.reserved,
            "active_jobs": credits.active_jobs,
            "version": credits.version,
        }


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
