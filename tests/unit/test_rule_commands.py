"""Rule use cases (with the user's rule slots) through the real executor, in memory."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError, Application

from domain.commands import rule as rules
from domain.errors import InvalidCommand, NotFound, RuleSlotLimitReached
from tests.fakes import presets

PRESETS = presets()


def create(rule_id: UUID, user_id: UUID, name: str, params: dict | None = None) -> Any:
    return rules.CreateRule(rule_id, user_id, name, "upscale", params or {}, PRESETS)


def test_a_rule_takes_a_slot_in_the_same_save(
    run: Any, memory_app: Application, user: UUID
) -> None:
    created = run(create(uuid4(), user, "Night", {"scale": 2}))

    assert memory_app.repository.get(created.rule_id).name == "Night"
    assert memory_app.repository.get(user).rule_ids == [str(created.rule_id)]
    assert created.rule_slots_used == 1


def test_the_third_rule_of_a_free_user_is_refused_and_not_saved(
    run: Any, memory_app: Application, user: UUID
) -> None:
    run(create(uuid4(), user, "One"))
    run(create(uuid4(), user, "Two"))
    third = uuid4()

    with pytest.raises(RuleSlotLimitReached):
        run(create(third, user, "Three"))

    with pytest.raises(AggregateNotFoundError):
        memory_app.repository.get(third)


def test_deleting_a_rule_frees_its_slot(run: Any, user: UUID) -> None:
    rule_id = uuid4()
    run(create(rule_id, user, "One"))
    run(create(uuid4(), user, "Two"))

    deleted = run(rules.DeleteRule(rule_id, user))

    assert (deleted.deleted, deleted.rule_slots_used) == (True, 1)
    assert run(create(uuid4(), user, "Three")).name == "Three"


def test_update_rule_changes_the_rule(run: Any, user: UUID) -> None:
    rule_id = uuid4()
    run(create(rule_id, user, "One"))

    updated = run(rules.UpdateRule(rule_id, user, "Uno", "denoise", {"strength": 0.3}, PRESETS))

    assert (updated.name, updated.preset, updated.params) == (
        "Uno",
        "denoise",
        {"strength": 0.3},
    )


@pytest.mark.parametrize(
    "command",
    [
        lambda rule_id, user_id: rules.UpdateRule(rule_id, user_id, "Mine", "upscale", {}, PRESETS),
        lambda rule_id, user_id: rules.DeleteRule(rule_id, user_id),
    ],
    ids=["update_rule", "delete_rule"],
)
def test_another_users_rule_is_not_found(run: Any, user: UUID, command: Any) -> None:
    rule_id = uuid4()
    run(create(rule_id, user, "One"))

    with pytest.raises(NotFound, match=f"Rule {rule_id} not found"):
        run(command(rule_id, uuid4()))


def test_a_rule_of_an_unknown_preset_is_refused(run: Any, user: UUID) -> None:
    with pytest.raises(InvalidCommand, match="unknown preset 'nope'"):
        run(rules.CreateRule(uuid4(), user, "One", "nope", {}, PRESETS))
