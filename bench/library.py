"""Two subjects on the eventsourcing library: Chronicle's command executor, and the naive loop."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from bench.audit import audit_users
from bench.harness import Abandoned, Client, Scenario, Tally
from bench.server import wait_for_connections
from domain.commands.usercredits import CommitCredits, OpenAccount, ReserveCredits
from domain.plans import PLANS, Plan
from domain.usercredits import UserCredits
from eventstore.application import open_application
from eventstore.executor import CommandExecutor

BALANCE = 100_000_000
HOT_PLAN = Plan("bench", max_concurrent_jobs=10_000, rule_slots=20)
GRACE_SECONDS = 1.0


def register_hot_plan() -> None:
    """Let one user hold a reservation per client (``pro`` allows only 20 at once)."""
    PLANS[HOT_PLAN.name] = HOT_PLAN


class _Session:
    """Users of one scenario on a fresh application, and what the clients saw acknowledged."""

    def __init__(self, dsn: str, scenario: Scenario) -> None:
        self._dsn = dsn
        self.app = open_application(dsn, pool_size=scenario.clients + 4)
        count = 1 if scenario.hot else scenario.clients
        self.plan = HOT_PLAN.name if scenario.hot else "pro"
        self.users = [uuid4() for _ in range(count)]
        self.acked: list[Counter[tuple[UUID, str]]] = [Counter() for _ in range(scenario.clients)]
        self.clients: list[Client] = []

    def _build_clients(self, scenario: Scenario) -> None:
        wait_for_connections(self.app)
        self.clients = [
            self._client(i, self.users[0 if scenario.hot else i]) for i in range(scenario.clients)
        ]

    def _client(self, index: int, user_id: UUID) -> Client:
        jobs = itertools.count()
        acked = self.acked[index]

        def iteration(tally: Tally, deadline: float) -> None:
            job_id = f"job-{index}-{next(jobs)}"
            if tally.measure(lambda: self.reserve(user_id, job_id, tally, deadline)):
                acked[user_id, "Reserved"] += 1
                if tally.measure(lambda: self.commit(user_id, job_id, tally, deadline)):
                    acked[user_id, "Committed"] += 1

        return iteration

    def reserve(self, user_id: UUID, job_id: str, tally: Tally, deadline: float) -> None:
        raise NotImplementedError

    def commit(self, user_id: UUID, job_id: str, tally: Tally, deadline: float) -> None:
        raise NotImplementedError

    @property
    def per_transaction(self) -> float:
        """Commands acknowledged per successful transaction (one here: one save per command)."""
        return 1.0

    def check(self) -> list[str]:
        """Conservation of credits, and events recorded exactly as acknowledged."""
        acked: Counter[tuple[UUID, str]] = Counter()
        for counter in self.acked:
            acked.update(counter)
        return audit_users(self._dsn, self.users, BALANCE, acked)

    def close(self) -> None:
        self.app.close()


class OursSession(_Session):
    """Each command goes through one ``CommandExecutor`` (batched, cached, retried)."""

    def __init__(self, dsn: str, scenario: Scenario) -> None:
        super().__init__(dsn, scenario)
        self.executor = CommandExecutor(self.app)
        for user_id in self.users:
            self.executor.execute(OpenAccount(user_id, self.plan, BALANCE))
        self._saves = 0
        self.app.save = self._counting(self.app.save)  # type: ignore[method-assign]
        self._build_clients(scenario)

    def _counting(self, save: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*aggregates: Any, **kwargs: Any) -> Any:
            recordings = save(*aggregates, **kwargs)
            self._saves += 1
            return recordings

        return counted

    @property
    def per_transaction(self) -> float:
        """Commands acknowledged per committed batch (the executor's group commit)."""
        acked = sum(sum(counter.values()) for counter in self.acked)
        return acked / self._saves if self._saves else 0.0

    def reserve(self, user_id: UUID, job_id: str, tally: Tally, deadline: float) -> None:
        self.executor.execute(ReserveCredits(user_id, job_id, 1))

    def commit(self, user_id: UUID, job_id: str, tally: Tally, deadline: float) -> None:
        self.executor.execute(CommitCredits(user_id, job_id, 1))

    def close(self) -> None:
        self.executor.close()
        super().close()


class NaiveSession(_Session):
    """Each command is ``repository.get``, the aggregate method, ``save``, again on conflict."""

    def __init__(self, dsn: str, scenario: Scenario) -> None:
        super().__init__(dsn, scenario)
        for user_id in self.users:
            self.app.save(UserCredits.open(user_id, self.plan, BALANCE))
        self._build_clients(scenario)

    def reserve(self, user_id: UUID, job_id: str, tally: Tally, deadline: float) -> None:
        self._until_saved(user_id, lambda c: c.reserve(job_id, 1), tally, deadline)

    def commit(self, user_id: UUID, job_id: str, tally: Tally, deadline: float) -> None:
        self._until_saved(user_id, lambda c: c.commit(job_id, 1), tally, deadline)

    def _until_saved(
        self, user_id: UUID, change: Callable[[UserCredits], None], tally: Tally, deadline: float
    ) -> None:
        while True:
            credits: UserCredits = self.app.repository.get(user_id)
            change(credits)
            try:
                self.app.save(credits)
                return
            except IntegrityError:
                tally.conflicts += 1
                if time.perf_counter() > deadline + GRACE_SECONDS:
                    raise Abandoned from None
