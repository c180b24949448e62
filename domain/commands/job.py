"""Use cases on Job (with the user's credits).

A command that changes a job and the credits reserved for it does both in one command,
so both save in one transaction: no job without its reservation, no cancel without its
refund. Jobs of another user are reported as not found, so that existence does not leak.

Settlement: ``SettleJobCredits`` (run by the credits saga on an ended job) commits
``consumed_credits`` of a done job and rolls back a failed or canceled one. ``CancelJob``,
``ExpireUpload``, ``ExpireUnstarted`` and ``ExpireStalled`` already roll back in the same
command; the later settle is then a no-op, as UserCredits' commit and rollback are
idempotent per job id, and an ended job whose reservation is neither held nor remembered
was settled long ago (see ``domain.usercredits``). A job that reserves nothing (cost 0)
holds no reservation, and settling it does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.base import Aggregates
from domain.errors import NotFound
from domain.job import Job
from domain.jobstatus import ItemReport, JobStatus
from domain.usercredits import COMMITTED, ROLLED_BACK, UserCredits

ALREADY_SETTLED = "already_settled"


@dataclass(frozen=True)
class JobAndCredits:
    """A job and its user's credits, after a command that changed both."""

    job: Job
    credits: UserCredits


@dataclass(frozen=True)
class Settlement:
    """An ended job's settlement: committed, rolled back, already settled, or None."""

    job: Job
    credits: UserCredits
    outcome: str | None


@dataclass(frozen=True)
class Expiry:
    """A job after a deadline, and whether the deadline changed it."""

    job: Job
    expired: bool


@dataclass(frozen=True)
class CreateJob:
    """Create a job and reserve its credits (cost × items) in the same save."""

    job_id: UUID
    user_id: UUID
    preset: str
    item_count: int
    cost_per_item: int

    def __call__(self, aggregates: Aggregates) -> JobAndCredits:
        job = Job.create(
            self.job_id, self.user_id, self.preset, self.item_count, self.cost_per_item
        )
        credits = aggregates.get(UserCredits, self.user_id)
        if job.reserved:
            credits.reserve(str(self.job_id), job.reserved)
        aggregates.add(job)
        return JobAndCredits(job, credits)


@dataclass(frozen=True)
class ConfirmUpload:
    """Mark every item of the user's job uploaded."""

    job_id: UUID
    user_id: UUID

    def __call__(self, aggregates: Aggregates) -> Job:
        job = _own_job(aggregates, self.job_id, self.user_id)
        job.confirm_upload()
        return job


@dataclass(frozen=True)
class ExecuteJob:
    """Queue the user's uploaded job for the workers."""

    job_id: UUID
    user_id: UUID

    def __call__(self, aggregates: Aggregates) -> Job:
        job = _own_job(aggregates, self.job_id, self.user_id)
        job.execute()
        return job


@dataclass(frozen=True)
class CancelJob:
    """Cancel the user's job and refund its reservation in the same save."""

    job_id: UUID
    user_id: UUID
    reason: str

    def __call__(self, aggregates: Aggregates) -> JobAndCredits:
        job = _own_job(aggregates, self.job_id, self.user_id)
        credits = aggregates.get(UserCredits, job.user_id)
        job.cancel(self.reason)
        _rollback(credits, job)
        return JobAndCredits(job, credits)


@dataclass(frozen=True)
class RecordItemResult:
    """Record a worker's report of one item, once per ``callback_key``."""

    job_id: UUID
    item_index: int
    outcome: str
    callback_key: str
    result_key: str | None = None
    error: str | None = None

    def __call__(self, aggregates: Aggregates) -> ItemReport:
        job = aggregates.get(Job, self.job_id)
        return job.record_item_result(
            self.item_index, self.outcome, self.callback_key, self.result_key, self.error
        )


@dataclass(frozen=True)
class FailItem:
    """Fail an item no worker reported (its lease expired too often)."""

    job_id: UUID
    item_index: int
    reason: str
    callback_key: str

    def __call__(self, aggregates: Aggregates) -> ItemReport:
        job = aggregates.get(Job, self.job_id)
        return job.fail_item(self.item_index, self.reason, self.callback_key)


@dataclass(frozen=True)
class SettleJobCredits:
    """Commit what an ended job consumed, or roll back a failed or canceled one."""

    job_id: UUID

    def __call__(self, aggregates: Aggregates) -> Settlement:
        job = aggregates.get(Job, self.job_id)
        credits = aggregates.get(UserCredits, job.user_id)
        key = str(self.job_id)
        if not job.reserved or not job.ended:
            return Settlement(job, credits, None)
        if not credits.holds_reservation(key) and key not in credits.settled:
            # Settled longer ago than the credits remember: the job ended, so it was settled.
            return Settlement(job, credits, ALREADY_SETTLED)
        if job.status == JobStatus.DONE:
            credits.commit(key, job.consumed_credits)
            return Settlement(job, credits, COMMITTED)
        credits.rollback(key)
        return Settlement(job, credits, ROLLED_BACK)


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
        _rollback(credits, job)
    return Expiry(job, expired)


def _rollback(credits: UserCredits, job: Job) -> None:
    if job.reserved:
        credits.rollback(str(job.id))


def _own_job(aggregates: Aggregates, job_id: UUID, user_id: UUID) -> Job:
    job = aggregates.find(Job, job_id)
    if job is None or job.user_id != user_id:
        raise NotFound(f"Job {job_id} not found")
    return job
