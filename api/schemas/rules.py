"""Schemas of rules."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

Params = dict[str, str | int | float | bool]


class RuleWrite(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    preset: str = Field(min_length=1, max_length=100)
    params: Params = Field(default_factory=dict, max_length=50)


class RuleView(BaseModel):
    rule_id: UUID
    name: str
    preset: str
    params: Params
    created_at: datetime
    updated_at: datetime
    version: int


class RuleChanged(RuleView):
    position: int | None


class RuleDeleted(BaseModel):
    rule_id: UUID
    deleted: bool
    rule_slots_used: int
    position: int | None
