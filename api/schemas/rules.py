"""Schemas of rules, and how a rule is presented to clients."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.base import RequestBody
from domain.checks import MAX_PRESET_ID
from domain.commands.rule import RuleAndCredits
from domain.rule import MAX_NAME, MAX_PARAMS, Params, Rule


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

    @staticmethod
    def present(changed: Rule | RuleAndCredits) -> dict[str, Any]:
        """The answer's fields besides the position, JSON-ready."""
        rule = changed.rule if isinstance(changed, RuleAndCredits) else changed
        return {
            "rule_id": str(rule.id),
            "name": rule.name,
            "preset": rule.preset,
            "params": dict(rule.params),
            "created_at": rule.created_on.isoformat(),
            "updated_at": rule.modified_on.isoformat(),
            "version": rule.version,
        }


class RuleDeleted(BaseModel):
    rule_id: UUID
    deleted: bool
    rule_slots_used: int
    position: int | None

    @staticmethod
    def present(deleted: RuleAndCredits) -> dict[str, Any]:
        """The answer's fields besides the position, JSON-ready."""
        return {
            "rule_id": str(deleted.rule.id),
            "deleted": deleted.rule.deleted,
            "rule_slots_used": len(deleted.credits.rule_ids),
        }
