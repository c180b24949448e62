"""A user's saved job rules; each takes one of the plan's rule slots."""

import uuid
from typing import Annotated

from fastapi import APIRouter

from api.deps import (
    Command,
    ServicesDep,
    UserPrincipal,
    caught_up,
    find_or_not_found,
    user_id_of,
)
from api.schemas.rules import RuleChanged, RuleDeleted, RuleView, RuleWrite
from domain.commands.rule import CreateRule, DeleteRule, UpdateRule
from projections.queries import get_rule, list_rules

router = APIRouter(prefix="/rules", tags=["rules"])
READ_MODELS = ["rules"]
MinPosition = Annotated[int | None, caught_up(*READ_MODELS)]


@router.get("", response_model=list[RuleView])
def list_my_rules(
    principal: UserPrincipal, services: ServicesDep, min_position: MinPosition = None
) -> list[RuleView]:
    """The caller's rules, oldest first."""
    return [RuleView(**r) for r in list_rules(services.reads, user_id_of(principal))]


@router.post("", response_model=RuleChanged, status_code=201)
def create_rule(
    body: RuleWrite, principal: UserPrincipal, command: Command, services: ServicesDep
) -> RuleChanged:
    """Save a rule; it takes a rule slot (free plan 2, pro 20) or is refused with nothing saved."""
    preset = services.presets.get(body.preset)
    run = CreateRule(uuid.uuid4(), user_id_of(principal), body.name, preset.id, body.params)
    outcome = command.run(services, run, present=RuleChanged.present)
    return RuleChanged(**outcome.result, position=outcome.position)


@router.get("/{rule_id}", response_model=RuleView)
def get_my_rule(
    rule_id: uuid.UUID,
    principal: UserPrincipal,
    services: ServicesDep,
    min_position: MinPosition = None,
) -> RuleView:
    """One of the caller's rules."""
    user_id = user_id_of(principal)
    row = find_or_not_found(
        services,
        READ_MODELS,
        lambda: get_rule(services.reads, rule_id, user_id),
        f"rule {rule_id}",
    )
    return RuleView(**row)


@router.put("/{rule_id}", response_model=RuleChanged)
def update_rule(
    rule_id: uuid.UUID,
    body: RuleWrite,
    principal: UserPrincipal,
    command: Command,
    services: ServicesDep,
) -> RuleChanged:
    """Replace a rule's name, preset and parameters."""
    preset = services.presets.get(body.preset)
    run = UpdateRule(rule_id, user_id_of(principal), body.name, preset.id, body.params)
    outcome = command.run(services, run, present=RuleChanged.present)
    return RuleChanged(**outcome.result, position=outcome.position)


@router.delete("/{rule_id}", response_model=RuleDeleted)
def delete_rule(
    rule_id: uuid.UUID, principal: UserPrincipal, command: Command, services: ServicesDep
) -> RuleDeleted:
    """Delete a rule and free its slot; deleting it again changes nothing."""
    run = DeleteRule(rule_id, user_id_of(principal))
    outcome = command.run(services, run, present=RuleDeleted.present)
    return RuleDeleted(**outcome.result, position=outcome.position)
