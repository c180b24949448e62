"""The diff of two states: what the audit log shows of an aggregate between two versions.

``diff`` is pure and generic: it compares two JSON-ready values (``eventstore.decoding``'s
``public_state``), recursing into dicts and lists, and names each difference by its path
(``document.questions[2].text``).
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
                changes.append(Change(where, "removed", old=old[key]))
            elif key not in old:
                changes.append(Change(where, "added", new=new[key]))
            else:
                changes.extend(diff(old[key], new[key], where))
        return changes
    if isinstance(old, list) and isinstance(new, list):
        changes = []
        for index in range(max(len(old), len(new))):
            where = f"{path}[{index}]"
            if index >= len(new):
                changes.append(Change(where, "removed", old=old[index]))
            elif index >= len(old):
                changes.append(Change(where, "added", new=new[index]))
            else:
                changes.extend(diff(old[index], new[index], where))
        return changes
    # 1 == 1.0 == True in Python; a change of type is a change all the same.
    if type(old) is not type(new) or old != new:
        return [Change(path, "changed", old=old, new=new)]
    return []
