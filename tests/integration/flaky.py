"""A reactor for tests: counts its deliveries, and fails every delivery for chosen aggregates."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg.rows import dict_row

from domain.usercredits import UserCredits

NAME = "test_flaky"


class FlakyReactor:
    """Reacts to accounts opened and grants; an aggregate in ``broken`` fails until removed."""

    name = NAME

    def __init__(self) -> None:
        self.broken: set[UUID] = set()
        self.attempts: Counter[tuple[UUID, int]] = Counter()
        self.delivered: Counter[tuple[UUID, int]] = Counter()
        self.order: defaultdict[UUID, list[int]] = defaultdict(list)
        self._lock = threading.Lock()

    def handles(self, event: Any) -> bool:
        return isinstance(event, UserCredits.Created | UserCredits.Granted)

    def react(self, event: Any, position: int) -> None:
        key = (event.originator_id, event.originator_version)
        with self._lock:
            self.attempts[key] += 1
            if event.originator_id in self.broken:
                raise RuntimeError(f"cannot deliver version {key[1]} of {key[0]}")
            self.delivered[key] += 1
            self.order[event.originator_id].append(event.originator_version)


def open_account(app: Any, broken: set[UUID] | None = None) -> UserCredits:
    """A new user's credits saved in the log (its id put in ``broken`` before it is saved)."""
    account = UserCredits.open(uuid4(), "free", 3)
    if broken is not None:
        broken.add(account.id)
    app.save(account)
    return account


def grant(app: Any, account: UserCredits, amount: int = 1) -> int:
    """Grant ``amount`` on ``account``; the log position of the grant."""
    account.grant(amount, "test")
    return int(app.save(account)[-1].notification.id)


def letters(dsn: str, reactor: str = NAME) -> list[dict[str, Any]]:
    """Every dead letter of ``reactor``, by log position."""
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return conn.execute(
            "SELECT * FROM dead_letters WHERE reactor = %s ORDER BY position", (reactor,)
        ).fetchall()
