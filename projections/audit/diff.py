"""The diff of two states: what the audit log shows of an aggregate between two versions.

``diff`` is pure and generic: it compares two JSON-ready values (``eventstore.decoding``'s
``public_state``), recursing into dicts and lists, and names each difference by its path
(``document.questions[2].text``). What is added or removed whole is named leaf by leaf too, so a
created document reads as a tree of its fields, as every later diff does; an empty dict or list
is one change.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

ChangeKind = Literal["added", "removed", "changed"]


@dataclasses.dataclass(frozen=True)
class Change:
    """One difference between two states: at ``path``, ``old`` became ``new``."""

    path: str
    kind: ChangeKind
    old: Any = None
    new: Any = None


def diff(old: Any, new: Any, path: str = "") -> list[Change]:
    """Every difference from ``old`` to ``new`` (JSON-ready values), in path order."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[Change] = []
        for key in sorted(old.keys() | new.keys()):
            where = f"{path}.{key}" if path else str(key)
            if key not in new:
                changes.extend(_whole(where, "removed", old[key]))
            elif key not in old:
                changes.extend(_whole(where, "added", new[key]))
            else:
                changes.extend(diff(old[key], new[key], where))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        changes = []
        for index in range(max(len(old), len(new))):
            where = f"{path}[{index}]"
            if index >= len(new):
                changes.extend(_whole(where, "removed", old[index]))
            elif index >= len(old):
                changes.extend(_whole(where, "added", new[index]))
            else:
                changes.extend(diff(old[index], new[index], where))
        return changes
    # 1 == 1.0 == True in Python; a change of type is a change all the same.
    if type(old) is not type(new) or old != new:
        return [Change(path, "changed", old=old, new=new)]
    return []


def _whole(path: str, kind: ChangeKind, value: Any) -> list[Change]:
    """A value added or removed whole, leaf by leaf (an empty dict or list is one leaf)."""
    if isinstance(value, dict | list) and value:
        empty: Any = {} if isinstance(value, dict) else []
        return diff(value, empty, path) if kind == "removed" else diff(empty, value, path)
    if kind == "removed":
        return [Change(path, kind, old=value)]
    return [Change(path, kind, new=value)]
