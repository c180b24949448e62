"""Job presets: configuration read from a JSON file, never from events.

A job records its preset's cost per item when it is created, so a later change of the
file never rewrites what past jobs cost.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from domain.errors import InvalidCommand

SHIPPED = Path(__file__).with_name("presets.json")


@dataclass(frozen=True)
class Preset:
    """A job type: what one item costs and how many items a job may have."""

    id: str
    name: str
    credit_cost: int
    max_items: int
    content_type: str

    def check_items(self, items: int) -> None:
        if not 1 <= items <= self.max_items:
            raise InvalidCommand(
                f"preset {self.id!r} takes 1 to {self.max_items} items, not {items}"
            )


class Presets:
    """The presets by id."""

    def __init__(self, presets: list[Preset]) -> None:
        self._by_id = {p.id: p for p in presets}

    @classmethod
    def load(cls, path: Path | None = None) -> Presets:
        entries = json.loads((path or SHIPPED).read_text())
        return cls([Preset(**entry) for entry in entries])

    def all(self) -> list[Preset]:
        return list(self._by_id.values())

    def get(self, preset_id: str) -> Preset:
        try:
            return self._by_id[preset_id]
        except KeyError:
            known = ", ".join(sorted(self._by_id))
            raise InvalidCommand(f"unknown preset {preset_id!r}; presets are {known}") from None
