"""How far the consumers a change feeds have carried it: the question "is my save live yet?".

For one aggregate and one log position (a command's answer), each consumer's position, its
state (a projection stopped on a poison event is ``failed``) and whether a reactor holds an
open dead letter of that aggregate at or before the position: a parked event, or one waiting
behind it, has not reached the outside world even though the reactor moved past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

from psycopg_pool import ConnectionPool

from projections.engine.deadletters import OPEN

PROGRESS = """
    SELECT c.name, coalesce(p.position, 0) AS position, coalesce(p.state, 'active') AS state,
        p.error,
        EXISTS (
            SELECT 1 FROM dead_letters d
            WHERE d.reactor = c.name AND d.aggregate_id = %(aggregate_id)s
                AND d.position <= %(position)s AND d.state = ANY(%(open)s)
        ) AS parked
    FROM unnest(%(names)s::text[]) AS c(name)
    LEFT JOIN projection_position p ON p.name = c.name
"""


@dataclass(frozen=True)
class Progress:
    """Where one consumer stands with respect to a change."""

    name: str
    position: int
    reached: bool
    parked: bool
    failed: bool
    error: str | None

    @property
    def done(self) -> bool:
        """Whether the change went through this consumer: reached, and not parked."""
        return self.reached and not self.parked


def get_progress(
    pool: ConnectionPool, names: list[str], aggregate_id: UUID, position: int
) -> dict[str, Progress]:
    """Each of ``names`` (a consumer that never ran is at 0) for the change at ``position``."""
    params: dict[str, Any] = {
        "names": names,
        "aggregate_id": aggregate_id,
        "position": position,
        "open": list(OPEN),
    }
    with pool.connection() as conn:
        rows = cast(list[dict[str, Any]], conn.execute(PROGRESS, params).fetchall())
    found = {
        row["name"]: Progress(
            name=row["name"],
            position=int(row["position"]),
            reached=int(row["position"]) >= position,
            parked=bool(row["parked"]),
            failed=row["state"] == "failed",
            error=row["error"],
        )
        for row in rows
    }
    return {name: found[name] for name in names}
