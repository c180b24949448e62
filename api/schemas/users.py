"""Schemas of users, credits and plans."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from domain.plans import PLANS

PlanName = Literal[tuple(PLANS)]  # type: ignore[valid-type]


class AnonSession(BaseModel):
    token: str
    user_id: UUID
    position: int = Field(description="Log position of the account's creation.")


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


class CreditGrant(BaseModel):
    amount: int = Field(gt=0, le=1_000_000_000)
    reason: str = Field(min_length=1, max_length=500)


class PlanChange(BaseModel):
    plan: PlanName


class CreditsChanged(BaseModel):
    """A command's answer: the user's credits after it, and where it is in the log."""

    user_id: UUID
    plan: str
    credits: int
    reserved_credits: int
    active_jobs: int
    version: int
    position: int | None = Field(description="Pass as `min_position` to read your write.")


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
