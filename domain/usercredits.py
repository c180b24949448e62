"""UserCredits: one user's credit balance, reservations per job, plan and rule slots.

It replaces the UserLimiter Durable Object: the balance never goes negative nor past
``MAX_CREDITS``, a job's reservation is settled exactly once (commit or rollback, each
idempotent per job id), active jobs and rule slots stay within the plan's limits.

Settled job ids are remembered for the last ``RECENT_SETTLEMENTS`` settlements only, so
that state and snapshots stay small however many jobs a user ran. Within that window a
repeated commit or rollback changes nothing; beyond it the job id is unknown here (NotFound).
Idempotency at any age holds because (1) a reservation is only ever made for a new job
(``CreateJob`` creates the Job in the same save, and a Job id is never created twice), so
a forgotten id is never reserved again, and (2) the one use case that settles by job id,
``SettleJobCredits``, reads the Job: an ended job whose reservation is no longer held
was settled before, and it does nothing.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.base import Aggregate
from domain.checks import require_count, require_text
from domain.errors import (
    ConcurrentJobLimitReached,
    InsufficientCredits,
    InvalidCommand,
    NotFound,
    QuotaExceeded,
    ReservationSettled,
    RuleSlotLimitReached,
)
from domain.plans import Plan, get_plan
from domain.quotas import KINDS, resets_at

COMMITTED = "committed"
ROLLED_BACK = "rolled_back"
MAX_CREDITS = 10**12  # available + reserved; every read model stores it (bigint)
MAX_GRANT = 1_000_000_000  # one grant
RECENT_SETTLEMENTS = 1000  # settled job ids remembered (see the module docstring)
# Where granted credits came from: an admin's hand, a paid top-up, or a promotion.
GRANT_SOURCES = ("admin", "purchase", "promotion")


class UserCredits(Aggregate):
    """A user's credits, reservations and rule slots."""

    snapshot_interval = 200
    class_version = 2  # of snapshots: v1 had no daily usage

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["usage"] = {}

    class Created(Aggregate.Created):
        plan: str
        credits: int

    class Granted(Aggregate.Event):
        class_version = 2  # v1 had no source: every grant then was an admin's

        amount: int
        reason: str
        source: str = "admin"

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["source"] = "admin"

        def apply(self, credits: UserCredits) -> None:
            credits.available += self.amount

    class PlanChanged(Aggregate.Event):
        plan: str

        def apply(self, credits: UserCredits) -> None:
            credits.plan_name = self.plan

    class Reserved(Aggregate.Event):
        job_id: str
        amount: int

        def apply(self, credits: UserCredits) -> None:
            credits.available -= self.amount
            credits.reservations[self.job_id] = self.amount

    class Committed(Aggregate.Event):
        job_id: str
        consumed: int
        refunded: int

        def apply(self, credits: UserCredits) -> None:
            del credits.reservations[self.job_id]
            credits.available += self.refunded
            credits._remember_settled(self.job_id, COMMITTED)

    class RolledBack(Aggregate.Event):
        job_id: str
        refunded: int

        def apply(self, credits: UserCredits) -> None:
            del credits.reservations[self.job_id]
            credits.available += self.refunded
            credits._remember_settled(self.job_id, ROLLED_BACK)

    class RuleSlotTaken(Aggregate.Event):
        rule_id: str

        def apply(self, credits: UserCredits) -> None:
            credits.rule_ids.append(self.rule_id)

    class RuleSlotFreed(Aggregate.Event):
        rule_id: str

        def apply(self, credits: UserCredits) -> None:
            credits.rule_ids.remove(self.rule_id)

    class QuotaUsed(Aggregate.Event):
        kind: str
        day: str

        def apply(self, credits: UserCredits) -> None:
            credits.usage[self.kind] = [self.day, credits.used(self.kind, self.day) + 1]

    def __init__(self, plan: str, credits: int) -> None:
        self.plan_name = plan
        self.available = credits
        self.reservations: dict[str, int] = {}
        self.settled: dict[str, str] = {}  # the most recent settlements, oldest first
        self.rule_ids: list[str] = []
        self.usage: dict[str, list[Any]] = {}  # kind -> [day, uses that day]

    @classmethod
    def open(cls, user_id: UUID, plan: str, credits: int) -> UserCredits:
        """A new user's credits on ``plan`` with ``credits`` to start with."""
        get_plan(plan)
        require_count("credits", credits, minimum=0, maximum=MAX_CREDITS)
        return cls._create(cls.Created, id=user_id, plan=plan, credits=credits)

    @property
    def plan(self) -> Plan:
        return get_plan(self.plan_name)

    @property
    def reserved(self) -> int:
        return sum(self.reservations.values())

    @property
    def active_jobs(self) -> int:
        return len(self.reservations)

    def holds_reservation(self, job_id: str) -> bool:
        """Whether credits are set aside for ``job_id`` now."""
        return job_id in self.reservations

    def grant(self, amount: int, reason: str, source: str = "admin") -> None:
        """Add ``amount`` credits from ``source``, saying why; at most ``MAX_CREDITS`` held."""
        require_count("amount", amount, minimum=1, maximum=MAX_GRANT)
        require_text("reason", reason)
        if source not in GRANT_SOURCES:
            raise InvalidCommand(f"source must be one of {', '.join(GRANT_SOURCES)}: {source!r}")
        held = self.available + self.reserved
        if held + amount > MAX_CREDITS:
            raise InvalidCommand(
                f"an account holds at most {MAX_CREDITS:,} credits; it holds {held:,}, "
                f"so a grant of {amount:,} is refused"
            )
        self.trigger_event(self.Granted, amount=amount, reason=reason.strip(), source=source)

    def change_plan(self, plan: str) -> None:
        """Move to ``plan``; existing reservations and rules are kept."""
        get_plan(plan)
        if plan != self.plan_name:
            self.trigger_event(self.PlanChanged, plan=plan)

    def reserve(self, job_id: str, amount: int) -> None:
        """Set ``amount`` credits aside for ``job_id``; a repeat changes nothing."""
        require_count("amount", amount, minimum=1)
        if job_id in self.settled:
            raise ReservationSettled(f"job {job_id} was already {self.settled[job_id]}")
        if job_id in self.reservations:
            if self.reservations[job_id] != amount:
                raise InvalidCommand(
                    f"job {job_id} already holds a reservation of "
                    f"{self.reservations[job_id]} credits, not {amount}"
                )
            return
        if self.active_jobs >= self.plan.max_concurrent_jobs:
            raise ConcurrentJobLimitReached(
                f"plan {self.plan_name!r} allows {self.plan.max_concurrent_jobs} "
                "concurrent jobs and all are in use"
            )
        if amount > self.available:
            raise InsufficientCredits(
                f"reserving {amount} credits needs more than the {self.available} available"
            )
        self.trigger_event(self.Reserved, job_id=job_id, amount=amount)

    def commit(self, job_id: str, consumed: int) -> None:
        """Spend ``consumed`` of the job's reservation and refund the rest."""
        if self.settled.get(job_id) == COMMITTED:
            return
        reserved = self._reservation(job_id)
        require_count("consumed", consumed, minimum=0)
        if consumed > reserved:
            raise InvalidCommand(
                f"consumed {consumed} exceeds the {reserved} credits reserved for job {job_id}"
            )
        self.trigger_event(
            self.Committed, job_id=job_id, consumed=consumed, refunded=reserved - consumed
        )

    def rollback(self, job_id: str) -> None:
        """Refund the whole reservation of ``job_id``."""
        if self.settled.get(job_id) == ROLLED_BACK:
            return
        reserved = self._reservation(job_id)
        self.trigger_event(self.RolledBack, job_id=job_id, refunded=reserved)

    def take_rule_slot(self, rule_id: str) -> None:
        """Take one of the plan's rule slots for ``rule_id``; a repeat changes nothing."""
        if rule_id in self.rule_ids:
            return
        if len(self.rule_ids) >= self.plan.rule_slots:
            raise RuleSlotLimitReached(
                f"plan {self.plan_name!r} allows {self.plan.rule_slots} rules "
                "and all slots are taken"
            )
        self.trigger_event(self.RuleSlotTaken, rule_id=rule_id)

    def free_rule_slot(self, rule_id: str) -> None:
        """Give back the slot of ``rule_id``; freeing a free slot changes nothing."""
        if rule_id in self.rule_ids:
            self.trigger_event(self.RuleSlotFreed, rule_id=rule_id)

    def used(self, kind: str, day: str) -> int:
        """The uses of ``kind`` on ``day`` (a UTC date)."""
        recorded_day, count = self.usage.get(kind, (None, 0))
        return int(count) if recorded_day == day else 0

    def require_quota(self, kind: str, day: str, limit: int | None) -> None:
        """Refuse one more use of ``kind`` on ``day`` when ``limit`` (None: none) is reached."""
        if kind not in KINDS:
            raise InvalidCommand(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        used = self.used(kind, day)
        if limit is not None and used >= limit:
            at = resets_at(day).isoformat()
            raise QuotaExceeded(
                f"plan {self.plan_name!r} allows {limit} {kind.replace('_', ' ')} a day; "
                f"{used} used on {day}; the quota resets at {at}",
                kind=kind,
                limit=limit,
                used=used,
                resets_at=at,
            )

    def use_quota(self, kind: str, day: str, limit: int | None) -> None:
        """Count one use of ``kind`` on ``day``, unless ``limit`` is reached (QuotaExceeded)."""
        self.require_quota(kind, day, limit)
        self.trigger_event(self.QuotaUsed, kind=kind, day=day)

    def _remember_settled(self, job_id: str, how: str) -> None:
        """Remember that ``job_id`` was settled ``how``, forgetting beyond the recent ones."""
        self.settled[job_id] = how
        if len(self.settled) > RECENT_SETTLEMENTS:
            # Oldest first (insertion order, kept by snapshots): drop the excess at the front.
            self.settled = dict(list(self.settled.items())[-RECENT_SETTLEMENTS:])

    def _reservation(self, job_id: str) -> int:
        if job_id in self.settled:
            raise ReservationSettled(f"job {job_id} was already {self.settled[job_id]}")
        try:
            return self.reservations[job_id]
        except KeyError:
            raise NotFound(f"no reservation for job {job_id}") from None
