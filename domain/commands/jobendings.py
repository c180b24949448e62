"""Use cases that end a job from outside its owner: the credits saga and the deadlines.

Settlement: ``SettleJobCredits`` (run by the credits saga on an ended job) commits
``consumed_credits`` of a done job and rolls back a failed or canceled one. ``CancelJob``,
``ExpireUpload``, ``ExpireUnstarted`` and ``ExpireStalled`` already roll back in the same
command; the later settle is then a no-op, as UserCredits' commit and rollback are
idempotent per job id, and an ended job whose reservation is neither held nor remembered
was settled long ago (see ``domain.usercredits``). A job that reserves nothing (cost 0)
holds no reservation, and settling it does nothing. A deadline fires at least once: firing
it again, or after the job moved on, changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.base import Aggregates
from domain.commands.job import JobState, rollback
from domain.commands.usercredits import CreditsState
from domain.job import Job
from domain.jobstatus import JobStatus
from domain.usercredits import COMMITTED, ROLLED_BACK, UserCredits

ALREADY_SETTLED = "already_settled"


@dataclass(frozen=True)
class Settlement:
    """An ended job's settlement: committed, rolled back, already settled, or None."""

    job: JobState
    credits: CreditsState
    outcome: str | None


@dataclass(frozen=True)
class Expiry:
    """A job after a deadline, and whether the deadline changed it."""

    job: JobState
    expired: bool


@dataclass(frozen=True)
class SettleJobCredits:
    """Commit what an ended job consumed, or roll back a failed or canceled one."""

    job_id: UUID

    def __call__(self, aggregates: Aggregates) -> Settlement:
        job = aggregates.get(Job, self.job_id)
        credits = aggregates.get(UserCredits, job.user_id)
        key = str(self.job_id)
        if not job.reserved or not job.ended:
            outcome = None
        elif not credits.holds_reservation(key) and key not in credits.settled:
            # Settled longer ago than the credits remember: the job ended, so it was settled.
            outcome = ALREADY_SETTLED
        elif job.status == JobStatus.DONE:
            credits.commit(key, job.consumed_credits)
            outcome = COMMITTED
        else:
            credits.rollback(key)
            outcome = ROLLED_BACK
        return Settlement(JobState.of(job), CreditsState.of(credits), outcome)


@dataclass(frozen=True)
class ExpireUpload:
    """Cancel and refund a job still waiting for its upload."""

    job_id: UUID

    def __call__(self, aggregates: Aggregates) -> Expiry:
        return _expire(aggregates, self.job_id, lambda job: job.expire_upload())


@dataclass(frozen=True)
class ExpireStalled:
    """Fail and refund a running job with no progress since ``before``."""

    job_id: UUID
    before: datetime

    def __call__(self, aggregates: Aggregates) -> Expiry:
        return _expire(aggregates, self.job_id, lambda job: job.expire_stalled(self.before))


@dataclass(frozen=True)
class ExpireUnstarted:
    """Cancel and refund a job uploaded or queued since ``before`` and never started."""

    job_id: UUID
    before: datetime

    def __call__(self, aggregates: Aggregates) -> Expiry:
        return _expire(aggregates, self.job_id, lambda job: job.expire_unstarted(self.before))


def _expire(aggregates: Aggregates, job_id: UUID, expire: Callable[[Job], bool]) -> Expiry:
    """Apply a deadline to the job; when it fires, refund the job's reservation with it."""
    job = aggregates.get(Job, job_id)
    credits = aggregates.get(UserCredits, job.user_id)
    expired = expire(job)
    if expired:
        rollback(credits, job)
    return Expiry(JobState.of(job), expired)
