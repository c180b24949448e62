"""What of a test is embedded: one passage per test, the same for every index that holds vectors.

Title, description, tags and result titles, one per line. Result descriptions are left out:
measured on ``tests/data/semantic_eval.json`` with the shipped model, adding them lowers top-1
(bench/semantic_eval.md). An edit that leaves this text unchanged embeds nothing again.
"""

from __future__ import annotations

from typing import Any


def embedded_text(document: dict[str, Any]) -> str:
    """The passage of a test document: title, description, tags, result titles."""
    results = document.get("results") or {}
    titles = [r.get("title", "") for _, r in sorted(results.items())]
    return "\n".join(
        [
            document.get("title", ""),
            document.get("description", ""),
            ", ".join(document.get("tags", ())),
            ", ".join(t for t in titles if t),
        ]
    )
