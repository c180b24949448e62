"""What a live stream follows of the audit log: a feed decides, in SQL and on a row alike.

A stream reads its feed from the read model after the position it resumes from (``read_after``),
then takes the live tail's rows the same feed ``matches``: both must keep the same rows, or a
resumed stream would differ from a live one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from psycopg_pool import ConnectionPool

from projections.audit.queries import COLUMNS

# A job's credits are settled once, by one of these events of its user's credits.
SETTLEMENTS = ("UserCredits.Committed", "UserCredits.RolledBack")


class Feed(Protocol):
    def where(self) -> tuple[list[str], list[Any]]: ...

    def matches(self, row: dict[str, Any]) -> bool: ...


@dataclass(frozen=True)
class JobFeed:
    """One job's events, then its settlement on its user's credits (after which it ends)."""

    job_id: UUID
    user_id: UUID

    def where(self) -> tuple[list[str], list[Any]]:
        condition = (
            "(aggregate_id = %s OR (aggregate_id = %s AND event_type = ANY(%s) "
            "AND data->>'job_id' = %s))"
        )
        return [condition], [self.job_id, self.user_id, list(SETTLEMENTS), str(self.job_id)]

    def matches(self, row: dict[str, Any]) -> bool:
        return row["aggregate_id"] == self.job_id or self.settles(row)

    def settles(self, row: dict[str, Any]) -> bool:
        """Whether ``row`` is the job's settlement: nothing of the job follows it."""
        return (
            row["aggregate_id"] == self.user_id
            and row["event_type"] in SETTLEMENTS
            and row["data"].get("job_id") == str(self.job_id)
        )


def read_after(
    pool: ConnectionPool, feed: Feed, after: int, until: int, *, limit: int
) -> list[dict[str, Any]]:
    """The first ``limit`` rows of ``feed`` in ``(after, until]``, in log order."""
    where, params = feed.where()
    where += ["position > %s", "position <= %s"]
    params += [after, until, limit]
    sql = f"SELECT {COLUMNS} FROM audit_log WHERE {' AND '.join(where)} ORDER BY position LIMIT %s"
    with pool.connection() as conn:
        return [dict(row) for row in conn.execute(sql, params).fetchall()]
