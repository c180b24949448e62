"""Rule: a user's saved job rule (a named preset with its parameters)."""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID

from domain.base import Aggregate
from domain.checks import MAX_PRESET_ID
from domain.errors import InvalidCommand, NotFound

MAX_NAME = 100
MAX_PARAMS = 50
MAX_PARAM_KEY = 100
MAX_PARAM_TEXT = 1000

Params = dict[str, str | int | float | bool]


class Rule(Aggregate):
    """A user's saved job rule; creating one takes a rule slot on the user's credits."""

    snapshot_interval = 100

    class Created(Aggregate.Created):
        user_id: UUID
        name: str
        preset: str
        params: dict[str, str | int | float | bool]

    class Updated(Aggregate.Event):
        name: str
        preset: str
        params: dict[str, str | int | float | bool]

        def apply(self, rule: Rule) -> None:
            rule.name = self.name
            rule.preset = self.preset
            rule.params = dict(self.params)

    class Deleted(Aggregate.Event):
        def apply(self, rule: Rule) -> None:
            rule.deleted = True

    def __init__(self, user_id: UUID, name: str, preset: str, params: Params) -> None:
        self.user_id = user_id
        self.name = name
        self.preset = preset
        self.params = dict(params)
        self.deleted = False

    @classmethod
    def create(cls, rule_id: UUID, user_id: UUID, name: str, preset: str, params: Params) -> Rule:
        """A new rule of ``user_id`` called ``name``."""
        name, preset, params = _checked(name, preset, params)
        return cls._create(
            cls.Created, id=rule_id, user_id=user_id, name=name, preset=preset, params=params
        )

    def update(self, name: str, preset: str, params: Params) -> None:
        """Replace the rule's name, preset and parameters; the same values change nothing."""
        self._require_not_deleted()
        name, preset, params = _checked(name, preset, params)
        if (name, preset, _typed(params)) != (self.name, self.preset, _typed(self.params)):
            self.trigger_event(self.Updated, name=name, preset=preset, params=params)

    def delete(self) -> None:
        """Delete the rule; deleting it again changes nothing."""
        if not self.deleted:
            self.trigger_event(self.Deleted)

    def _require_not_deleted(self) -> None:
        if self.deleted:
            raise NotFound(f"Rule {self.id} not found")


def _checked(name: object, preset: object, params: object) -> tuple[str, str, Params]:
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME:
        raise InvalidCommand(f"name must have 1 to {MAX_NAME} characters")
    if not isinstance(preset, str) or not 1 <= len(preset.strip()) <= MAX_PRESET_ID:
        raise InvalidCommand(f"preset must have 1 to {MAX_PRESET_ID} characters")
    if not isinstance(params, dict):
        raise InvalidCommand("params must be an object")
    if len(params) > MAX_PARAMS:
        raise InvalidCommand(f"params must have at most {MAX_PARAMS} keys, got {len(params)}")
    for key, value in params.items():
        _check_param(key, value)
    return name.strip(), preset.strip(), dict(params)


def _typed(params: Params) -> dict[str, tuple[str, Any]]:
    # 1, 1.0 and True compare equal in Python; a change between them is still a change.
    return {key: (type(value).__name__, value) for key, value in params.items()}


def _check_param(key: object, value: object) -> None:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_PARAM_KEY:
        raise InvalidCommand(f"param names must have 1 to {MAX_PARAM_KEY} characters, got {key!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidCommand(f"param {key!r} must be a finite number")
    if isinstance(value, str) and len(value) > MAX_PARAM_TEXT:
        raise InvalidCommand(f"param {key!r} must have at most {MAX_PARAM_TEXT} characters")
    if not isinstance(value, str | int | float | bool):
        raise InvalidCommand(
            f"param {key!r} must be a string, number or boolean, got {type(value).__name__}"
        )
