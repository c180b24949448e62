"""Use cases on Rule (with the user's rule slots), as commands for the executor.

Creating a rule takes a slot and deleting it frees the slot in the same command, so both
save in one transaction. Rules of another user are reported as not found.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.base import Aggregates
from domain.commands.usercredits import Command, summary
from domain.errors import NotFound
from domain.rule import Params, Rule
from domain.usercredits import UserCredits


def create_rule(rule_id: UUID, user_id: UUID, name: str, preset: str, params: Params) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        rule = Rule.create(rule_id, user_id, name, preset, params)
        credits = aggregates.get(UserCredits, user_id)
        credits.take_rule_slot(str(rule_id))
        aggregates.add(rule)
        return {**rule.view(), "credits": summary(credits)}

    return run


def update_rule(rule_id: UUID, user_id: UUID, name: str, preset: str, params: Params) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        rule = _own_rule(aggregates, rule_id, user_id)
        rule.update(name, preset, params)
        return rule.view()

    return run


def delete_rule(rule_id: UUID, user_id: UUID) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        rule = _own_rule(aggregates, rule_id, user_id)
        credits = aggregates.get(UserCredits, user_id)
        rule.delete()
        credits.free_rule_slot(str(rule_id))
        return {**rule.view(), "credits": summary(credits)}

    return run


def _own_rule(aggregates: Aggregates, rule_id: UUID, user_id: UUID) -> Rule:
    rule = aggregates.find(Rule, rule_id)
    if rule is None or rule.user_id != user_id:
        raise NotFound(f"Rule {rule_id} not found")
    return rule
