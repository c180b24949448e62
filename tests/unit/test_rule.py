"""Rule: create, update, delete and the validation of names and parameters."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from domain.checks import MAX_PRESET_ID
from domain.errors import InvalidCommand, NotFound
from domain.rule import Rule


def new_rule(**params: Any) -> Rule:
    return Rule.create(uuid4(), uuid4(), "Night photos", "upscale", params or {"scale": 2})


def event_names(rule: Rule) -> list[str]:
    return [type(e).__name__ for e in rule.pending_events]


def test_create_records_the_rule() -> None:
    rule = Rule.create(uuid4(), uuid4(), "  Night photos ", "upscale", {"scale": 2, "hdr": True})

    assert (rule.name, rule.preset, rule.params, rule.deleted) == (
        "Night photos",
        "upscale",
        {"scale": 2, "hdr": True},
        False,
    )


def test_update_replaces_name_preset_and_params() -> None:
    rule = new_rule()

    rule.update("Portraits", "denoise", {"strength": 0.5})

    assert (rule.name, rule.preset, rule.params) == ("Portraits", "denoise", {"strength": 0.5})
    assert event_names(rule)[-1] == "Updated"


def test_update_with_the_same_values_records_nothing() -> None:
    rule = new_rule(scale=2)

    rule.update("Night photos", "upscale", {"scale": 2})

    assert event_names(rule) == ["Created"]


def test_update_from_a_number_to_a_boolean_is_a_change() -> None:
    rule = new_rule(flag=1)

    rule.update("Night photos", "upscale", {"flag": True})

    assert rule.params["flag"] is True


def test_delete_marks_the_rule_deleted() -> None:
    rule = new_rule()

    rule.delete()

    assert (rule.deleted, event_names(rule)[-1]) == (True, "Deleted")


def test_a_second_delete_records_nothing() -> None:
    rule = new_rule()
    rule.delete()

    rule.delete()

    assert event_names(rule) == ["Created", "Deleted"]


def test_update_of_a_deleted_rule_is_not_found() -> None:
    rule = new_rule()
    rule.delete()

    with pytest.raises(NotFound):
        rule.update("Portraits", "denoise", {})


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, None])
def test_create_refuses_a_bad_name(name: Any) -> None:
    with pytest.raises(InvalidCommand):
        Rule.create(uuid4(), uuid4(), name, "upscale", {})


def test_create_refuses_an_empty_preset() -> None:
    with pytest.raises(InvalidCommand):
        Rule.create(uuid4(), uuid4(), "Night photos", "", {})


@pytest.mark.parametrize(
    "params",
    [
        {f"p{i}": i for i in range(51)},
        {"nested": {"a": 1}},
        {"list": [1, 2]},
        {"none": None},
        {"nan": float("nan")},
        {"": 1},
        {1: 1},
        ["scale", 2],
    ],
)
def test_create_refuses_params_that_are_not_flat_json(params: Any) -> None:
    with pytest.raises(InvalidCommand):
        Rule.create(uuid4(), uuid4(), "Night photos", "upscale", params)


def test_fifty_params_are_allowed() -> None:
    rule = new_rule(**{f"p{i}": i for i in range(50)})

    assert len(rule.params) == 50


def test_a_preset_id_past_the_shared_bound_is_refused() -> None:
    with pytest.raises(InvalidCommand, match=f"1 to {MAX_PRESET_ID} characters"):
        Rule.create(uuid4(), uuid4(), "Night photos", "p" * (MAX_PRESET_ID + 1), {})
