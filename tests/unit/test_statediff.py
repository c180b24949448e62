"""The generic state diff and the JSON-ready form of states that time travel and diffs share."""

import dataclasses
from datetime import UTC, datetime
from enum import Enum
from uuid import UUID

from eventstore.decoding import json_ready, public_state
from projections.audit.diff import Change, diff

ID = UUID("12345678-1234-5678-1234-567812345678")


class Colour(Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Thing:
    def __init__(self) -> None:
        self.name = "a"
        self.tags = {"b", "a"}
        self._secret = "hidden"


def test_equal_states_have_no_changes():
    state = {"a": 1, "b": [1, {"c": "x"}]}
    assert diff(state, {"a": 1, "b": [1, {"c": "x"}]}) == []


def test_a_field_added_removed_and_changed_are_each_named():
    changes = diff({"keep": 1, "gone": 2, "moved": 3}, {"keep": 1, "moved": 4, "new": 5})
    assert changes == [
        Change("gone", "removed", old=2),
        Change("moved", "changed", old=3, new=4),
        Change("new", "added", new=5),
    ]


def test_a_change_deep_in_lists_and_dicts_has_its_full_path():
    old = {"document": {"questions": [{"text": "a"}, {"text": "b"}, {"text": "c"}]}}
    new = {"document": {"questions": [{"text": "a"}, {"text": "b"}, {"text": "C?"}]}}
    assert diff(old, new) == [Change("document.questions[2].text", "changed", old="c", new="C?")]


def test_a_longer_or_shorter_list_adds_or_removes_items_by_index():
    assert diff({"l": [1]}, {"l": [1, 2]}) == [Change("l[1]", "added", new=2)]
    assert diff({"l": [1, 2]}, {"l": [1]}) == [Change("l[1]", "removed", old=2)]


def test_a_change_of_type_is_a_change_even_when_python_calls_them_equal():
    assert diff({"v": 1}, {"v": True}) == [Change("v", "changed", old=1, new=True)]
    assert diff({"v": {"a": 1}}, {"v": [1]}) == [Change("v", "changed", old={"a": 1}, new=[1])]


def test_json_ready_turns_ids_times_sets_enums_and_dataclasses_into_json_types():
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    value = {"id": ID, "at": at, "set": {3, 1, 10}, "tuple": ("b", "a"), "c": Colour.RED}
    value["p"] = Point(1, 2)
    assert json_ready(value) == {
        "id": str(ID),
        "at": "2026-01-02T03:04:05+00:00",
        "set": [1, 3, 10],
        "tuple": ["a", "b"],
        "c": "red",
        "p": {"x": 1, "y": 2},
    }


def test_public_state_leaves_out_private_attributes():
    assert public_state(Thing()) == {"name": "a", "tags": ["a", "b"]}


def test_what_is_created_whole_is_named_leaf_by_leaf():
    created = {"document": {"title": "t", "tags": ["a"], "results": {}}, "version": 1}

    assert diff({}, created) == [
        Change("document.results", "added", new={}),
        Change("document.tags[0]", "added", new="a"),
        Change("document.title", "added", new="t"),
        Change("version", "added", new=1),
    ]


def test_what_is_removed_whole_is_named_leaf_by_leaf():
    assert diff({"q": [{"text": "x"}], "k": 1}, {"k": 1}) == [
        Change("q[0].text", "removed", old="x")
    ]
