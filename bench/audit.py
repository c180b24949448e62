"""After a run: reload each user from a fresh application and check that no credit was lost."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

from domain.usercredits import UserCredits
from eventstore.application import open_application


def audit_users(
    dsn: str, users: list[UUID], balance: int, acked: Counter[tuple[UUID, str]]
) -> list[str]:
    """What is wrong with the users' stored credits, as messages (none when all is well)."""
    app = open_application(dsn, pool_size=2)
    try:
        return [problem for user_id in users for problem in _audit(app, user_id, balance, acked)]
    finally:
        app.close()


def _audit(app: Any, user_id: UUID, balance: int, acked: Counter[tuple[UUID, str]]) -> list[str]:
    loaded = app.repository.get(user_id)
    events = list(app.events.get(user_id))
    replayed: Any = None
    for event in events:
        replayed = event.mutate(replayed)
    consumed = sum(e.consumed for e in events if isinstance(e, UserCredits.Committed))
    kinds = Counter(type(e).__name__ for e in events)
    problems = []
    total = loaded.available + loaded.reserved + consumed
    if total != balance or loaded.available < 0:
        problems.append(
            f"user {user_id}: available {loaded.available} + reserved {loaded.reserved} "
            f"+ consumed {consumed} = {total}, not the initial {balance}"
        )
    if (loaded.available, loaded.reservations) != (replayed.available, replayed.reservations):
        problems.append(f"user {user_id}: loaded state differs from a replay of its events")
    for kind in ("Reserved", "Committed"):
        if kinds[kind] != acked[user_id, kind]:
            problems.append(
                f"user {user_id}: {kinds[kind]} {kind} events recorded, "
                f"{acked[user_id, kind]} acknowledged to clients"
            )
    return problems
