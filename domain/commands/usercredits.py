"""Use cases on UserCredits; each returns the user's credits as the command left them."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.base import Aggregates
from domain.usercredits import UserCredits


@dataclass(frozen=True)
class CreditsState:
    """A user's credits as a command left them: what the caller is answered from."""

    user_id: UUID
    plan: str
    available: int
    reserved: int
    active_jobs: int
    rule_slots_used: int
    version: int

    @classmethod
    def of(cls, credits: UserCredits) -> CreditsState:
        return cls(
            credits.id,
            credits.plan_name,
            credits.available,
            credits.reserved,
            credits.active_jobs,
            len(credits.rule_ids),
            credits.version,
        )


@dataclass(frozen=True)
class OpenAccount:
    """Open a new user's credits on ``plan`` with ``credits`` to start with."""

    user_id: UUID
    plan: str
    credits: int

    def __call__(self, aggregates: Aggregates) -> CreditsState:
        account = UserCredits.open(self.user_id, self.plan, self.credits)
        aggregates.add(account)
        return CreditsState.of(account)


class _OnCredits:
    """A command that changes one user's existing credits."""

    user_id: UUID

    def __call__(self, aggregates: Aggregates) -> CreditsState:
        credits = aggregates.get(UserCredits, self.user_id)
        self.change(credits)
        return CreditsState.of(credits)

    def change(self, credits: UserCredits) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class GrantCredits(_OnCredits):
    """Add credits to a user's balance, saying why and where they came from."""

    user_id: UUID
    amount: int
    reason: str
    source: str = "admin"

    def change(self, credits: UserCredits) -> None:
        credits.grant(self.amount, self.reason, self.source)


@dataclass(frozen=True)
class ChangePlan(_OnCredits):
    """Move a user to another plan."""

    user_id: UUID
    plan: str

    def change(self, credits: UserCredits) -> None:
        credits.change_plan(self.plan)


@dataclass(frozen=True)
class ReserveCredits(_OnCredits):
    """Set credits aside for a job."""

    user_id: UUID
    job_id: str
    amount: int

    def change(self, credits: UserCredits) -> None:
        credits.reserve(self.job_id, self.amount)


@dataclass(frozen=True)
class CommitCredits(_OnCredits):
    """Spend what a job consumed of its reservation and refund the rest."""

    user_id: UUID
    job_id: str
    consumed: int

    def change(self, credits: UserCredits) -> None:
        credits.commit(self.job_id, self.consumed)


@dataclass(frozen=True)
class RollbackCredits(_OnCredits):
    """Refund a job's whole reservation."""

    user_id: UUID
    job_id: str

    def change(self, credits: UserCredits) -> None:
        credits.rollback(self.job_id)


@dataclass(frozen=True)
class TakeRuleSlot(_OnCredits):
    """Take one of the plan's rule slots for a rule."""

    user_id: UUID
    rule_id: str

    def change(self, credits: UserCredits) -> None:
        credits.take_rule_slot(self.rule_id)


@dataclass(frozen=True)
class FreeRuleSlot(_OnCredits):
    """Give back a rule's slot."""

    user_id: UUID
    rule_id: str

    def change(self, credits: UserCredits) -> None:
        credits.free_rule_slot(self.rule_id)
