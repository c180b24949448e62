"""Use cases on Rule (with the user's rule slots).

Creating a rule takes a slot and deleting it frees the slot in the same command, so both
save in one transaction. Rules of another user are reported as not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.base import Aggregates
from domain.errors import NotFound
from domain.rule import Params, Rule
from domain.usercredits import UserCredits


@dataclass(frozen=True)
class RuleAndCredits:
    """A rule and its user's credits, after a command that changed both."""

    rule: Rule
    credits: UserCredits


@dataclass(frozen=True)
class CreateRule:
    """Save a new rule, taking one of the plan's rule slots in the same save."""

    rule_id: UUID
    user_id: UUID
    name: str
    preset: str
    params: Params

    def __call__(self, aggregates: Aggregates) -> RuleAndCredits:
        rule = Rule.create(self.rule_id, self.user_id, self.name, self.preset, self.params)
        credits = aggregates.get(UserCredits, self.user_id)
        credits.take_rule_slot(str(self.rule_id))
        aggregates.add(rule)
        return RuleAndCredits(rule, credits)


@dataclass(frozen=True)
class UpdateRule:
    """Replace the name, preset and parameters of the user's rule."""

    rule_id: UUID
    user_id: UUID
    name: str
    preset: str
    params: Params

    def __call__(self, aggregates: Aggregates) -> Rule:
        rule = _own_rule(aggregates, self.rule_id, self.user_id)
        rule.update(self.name, self.preset, self.params)
        return rule


@dataclass(frozen=True)
class DeleteRule:
    """Delete the user's rule and free its slot in the same save."""

    rule_id: UUID
    user_id: UUID

    def __call__(self, aggregates: Aggregates) -> RuleAndCredits:
        rule = _own_rule(aggregates, self.rule_id, self.user_id)
        credits = aggregates.get(UserCredits, self.user_id)
        rule.delete()
        credits.free_rule_slot(str(self.rule_id))
        return RuleAndCredits(rule, credits)


def _own_rule(aggregates: Aggregates, rule_id: UUID, user_id: UUID) -> Rule:
    rule = aggregates.find(Rule, rule_id)
    if rule is None or rule.user_id != user_id:
        raise NotFound(f"Rule {rule_id} not found")
    return rule
