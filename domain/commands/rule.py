"""Use cases on Rule (with the user's rule slots).

Creating a rule takes a slot and deleting it frees the slot in the same command, so both
save in one transaction. Rules of another user are reported as not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.base import Aggregates
from domain.errors import NotFound
from domain.presets import Presets
from domain.rule import Params, Rule
from domain.usercredits import UserCredits


@dataclass(frozen=True)
class RuleState:
    """A rule as a command left it, with its user's rule slots: what the caller answers from."""

    rule_id: UUID
    name: str
    preset: str
    params: Params
    created_at: datetime
    updated_at: datetime
    version: int
    deleted: bool
    rule_slots_used: int | None  # None: the command did not touch the slots

    @classmethod
    def of(cls, rule: Rule, credits: UserCredits | None = None) -> RuleState:
        return cls(
            rule.id,
            rule.name,
            rule.preset,
            dict(rule.params),
            rule.created_on,
            rule.modified_on,
            rule.version,
            rule.deleted,
            None if credits is None else len(credits.rule_ids),
        )


@dataclass(frozen=True)
class CreateRule:
    """Save a new rule, taking one of the plan's rule slots in the same save."""

    rule_id: UUID
    user_id: UUID
    name: str
    preset: str
    params: Params
    presets: Presets

    def __call__(self, aggregates: Aggregates) -> RuleState:
        preset = self.presets.get(self.preset)
        rule = Rule.create(self.rule_id, self.user_id, self.name, preset.id, self.params)
        credits = aggregates.get(UserCredits, self.user_id)
        credits.take_rule_slot(str(self.rule_id))
        aggregates.add(rule)
        return RuleState.of(rule, credits)


@dataclass(frozen=True)
class UpdateRule:
    """Replace the name, preset and parameters of the user's rule."""

    rule_id: UUID
    user_id: UUID
    name: str
    preset: str
    params: Params
    presets: Presets

    def __call__(self, aggregates: Aggregates) -> RuleState:
        preset = self.presets.get(self.preset)
        rule = _own_rule(aggregates, self.rule_id, self.user_id)
        rule.update(self.name, preset.id, self.params)
        return RuleState.of(rule)


@dataclass(frozen=True)
class DeleteRule:
    """Delete the user's rule and free its slot in the same save."""

    rule_id: UUID
    user_id: UUID

    def __call__(self, aggregates: Aggregates) -> RuleState:
        rule = _own_rule(aggregates, self.rule_id, self.user_id)
        credits = aggregates.get(UserCredits, self.user_id)
        rule.delete()
        credits.free_rule_slot(str(self.rule_id))
        return RuleState.of(rule, credits)


def _own_rule(aggregates: Aggregates, rule_id: UUID, user_id: UUID) -> Rule:
    rule = aggregates.find(Rule, rule_id)
    if rule is None or rule.user_id != user_id:
        raise NotFound(f"Rule {rule_id} not found")
    return rule
