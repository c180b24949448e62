"""Daily usage quotas per plan: how many jobs (and assistant turns) a user may start a UTC day.

The numbers are policy, set per plan by the operator (``CHRONICLE_QUOTA_*``); counting them is
a rule of the user's credits (``UserCredits.use_quota``), so it holds across processes and is
part of the log. A day is a UTC date (``2026-12-04``); its quota resets at the next midnight, UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

JOBS = "jobs"
ASSISTANT_TURNS = "assistant_turns"
KINDS = (JOBS, ASSISTANT_TURNS)


@dataclass(frozen=True)
class Quotas:
    """Per plan, per kind, the uses allowed a day (a kind left out is not limited)."""

    per_day: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def limit(self, plan: str, kind: str) -> int | None:
        """The uses of ``kind`` allowed a day on ``plan``, or None without a quota."""
        return self.per_day.get(plan, {}).get(kind)


NO_QUOTAS = Quotas()


def today() -> str:
    """The UTC date now, as a day is recorded."""
    return datetime.now(UTC).date().isoformat()


def resets_at(day: str) -> datetime:
    """When the quotas of ``day`` reset: the next midnight, UTC."""
    return datetime.combine(date.fromisoformat(day) + timedelta(days=1), time(), UTC)
