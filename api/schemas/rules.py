"""Schemas of rules, and how a rule is presented to clients."""

from datetime import datetime
from typing import Any, Self
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.base import RequestBody
from domain.checks import MAX_PRESET_ID
from domain.rule import MAX_NAME, MAX_PARAMS, Params
from eventstore.records import Outcome


class RuleWrite(RequestBody):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    preset: str = Field(min_length=1, max_length=MAX_PRESET_ID)
    params: Params = Field(default_factory=dict, max_length=MAX_PARAMS)


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

    @classmethod
    def from_outcome(cls, outcome: Outcome[Any]) -> Self:
        """The answer to a rule command (a ``RuleState``: the view's fields and more)."""
        return cls.model_validate({**outcome.record, "position": outcome.position})


class RuleDeleted(BaseModel):
    rule_id: UUID
    deleted: bool
    rule_slots_used: int
    position: int | None

    @classmethod
    def from_outcome(cls, outcome: Outcome[Any]) -> Self:
        """The answer to a deletion (a ``RuleState`` with the slots the user still holds)."""
        return cls.model_validate({**outcome.record, "position": outcome.position})
