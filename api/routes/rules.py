"""A user's saved job rules; each takes one of the plan's rule slots."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter

from api.deps import Command, PresetsDep, UserPrincipal, user_id_of
from api.reads import ReadsDep, caught_up
from api.schemas.rules import RuleChanged, RuleDeleted, RuleView, RuleWrite
from domain.commands.rule import CreateRule, DeleteRule, UpdateRule
from projections.rules.queries import get_rule, list_rules

router = APIRouter(prefix="/rules", tags=["rules"])
READ_MODELS = ["rules"]
MinPosition = Annotated[int | None, caught_up(*READ_MODELS)]


@router.get("", response_model=list[RuleView])
def list_my_rules(
    principal: UserPrincipal, reads: ReadsDep, min_position: MinPosition = None
) -> list[RuleView]:
    """The caller's rules, oldest first."""
    return [RuleView(**r) for r in list_rules(reads.pool, user_id_of(principal))]


@router.post("", response_model=RuleChanged, status_code=201)
def create_rule(
    body: RuleWrite, principal: UserPrincipal, command: Command, presets: PresetsDep
) -> RuleChanged:
    """Save a rule; it takes a rule slot (free plan 2, pro 20) or is refused with nothing saved."""
    user_id = user_id_of(principal)
    run = CreateRule(uuid.uuid4(), user_id, body.name, body.preset, body.params, presets)
    return RuleChanged.from_outcome(command.run(run))


@router.get("/{rule_id}", response_model=RuleView)
def get_my_rule(
    rule_id: uuid.UUID,
    principal: UserPrincipal,
    reads: ReadsDep,
    min_position: MinPosition = None,
) -> RuleView:
    """One of the caller's rules."""
    user_id = user_id_of(principal)

    def find() -> dict[str, Any] | None:
        return get_rule(reads.pool, rule_id, user_id)

    row = reads.find_or_not_found(READ_MODELS, find, f"rule {rule_id}")
    return RuleView(**row)


@router.put("/{rule_id}", response_model=RuleChanged)
def update_rule(
    rule_id: uuid.UUID,
    body: RuleWrite,
    principal: UserPrincipal,
    command: Command,
    presets: PresetsDep,
) -> RuleChanged:
    """Replace a rule's name, preset and parameters."""
    run = UpdateRule(rule_id, user_id_of(principal), body.name, body.preset, body.params, presets)
    return RuleChanged.from_outcome(command.run(run))


@router.delete("/{rule_id}", response_model=RuleDeleted)
def delete_rule(rule_id: uuid.UUID, principal: UserPrincipal, command: Command) -> RuleDeleted:
    """Delete a rule and free its slot; deleting it again changes nothing."""
    return RuleDeleted.from_outcome(command.run(DeleteRule(rule_id, user_id_of(principal))))
