"""Use cases on Job (with the user's credits): its owner's, and its workers' reports.

A command that changes a job and the credits reserved for it does both in one command,
so both save in one transaction: no job without its reservation, no cancel without its
refund. Jobs of another user are reported as not found, so that existence does not leak.
Each returns a ``JobState`` (or a report of one item): what its caller answers from. What
ends a job from outside (the credits saga, the deadlines) is ``domain.commands.jobendings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from domain.base import Aggregates
from domain.errors import LeaseNotHeld, NotFound, UploadsMissing
from domain.job import Job
from domain.jobstatus import ItemReport, JobStatus
from domain.presets import Presets
from domain.quotas import JOBS, NO_QUOTAS, Quotas, today
from domain.usercredits import UserCredits


@dataclass(frozen=True)
class JobState:
    """A job as a command left it: what the caller is answered from."""

    job_id: UUID
    preset: str
    status: str
    reason: str | None
    succeeded: int
    failed: int
    total: int
    reserved: int

    @classmethod
    def of(cls, job: Job) -> JobState:
        return cls(
            job.id,
            job.preset,
            str(job.status),
            job.reason,
            job.succeeded_items,
            job.failed_items,
            job.item_count,
            job.reserved,
        )


class Storage(Protocol):
    """What a use case asks of object storage: which of these keys hold no object."""

    def missing(self, keys: list[str]) -> list[str]: ...


class Leases(Protocol):
    """Who holds the lease of an item of one job (the worker queue's answer)."""

    def holder(self, item_index: int) -> str | None:
        """The worker leasing the item while it waits for its report; else None."""
        ...


@dataclass(frozen=True)
class CreateJob:
    """Create a job of a preset, reserve its credits (cost × items) and count it against the
    plan's daily quota of jobs, in the same save."""

    job_id: UUID
    user_id: UUID
    preset: str
    item_count: int
    presets: Presets
    quotas: Quotas = NO_QUOTAS
    day: str = field(default_factory=today)

    def __call__(self, aggregates: Aggregates) -> JobState:
        preset = self.presets.get(self.preset)
        preset.check_items(self.item_count)
        job = Job.create(self.job_id, self.user_id, preset.id, self.item_count, preset.credit_cost)
        credits = aggregates.get(UserCredits, self.user_id)
        limit = self.quotas.limit(credits.plan_name, JOBS)
        credits.require_quota(JOBS, self.day, limit)  # checked before anything is triggered
        if job.reserved:
            credits.reserve(str(self.job_id), job.reserved)
        credits.use_quota(JOBS, self.day, limit)
        aggregates.add(job)
        return JobState.of(job)


@dataclass(frozen=True)
class ConfirmUpload:
    """Mark every item of the user's job uploaded, once storage holds every one of them."""

    job_id: UUID
    user_id: UUID
    storage: Storage

    def prepare(self, saved: Aggregates) -> ConfirmUpload:
        """Refuse while an upload is missing; storage is asked only while uploads are awaited
        (otherwise the command answers: a repeat with its first answer, anything else with
        the transition it cannot make)."""
        job = saved.find(Job, self.job_id)
        if job is None or job.user_id != self.user_id:
            raise NotFound(f"job {self.job_id} not found")
        if job.status == JobStatus.CREATED:
            keys = job.upload_keys
            missing = self.storage.missing(keys)
            if missing:
                shown = ", ".join(missing[:20]) + (", …" if len(missing) > 20 else "")
                raise UploadsMissing(f"{len(missing)} of {len(keys)} uploads are missing: {shown}")
        return self

    def __call__(self, aggregates: Aggregates) -> JobState:
        job = _own_job(aggregates, self.job_id, self.user_id)
        job.confirm_upload()
        return JobState.of(job)


@dataclass(frozen=True)
class ExecuteJob:
    """Queue the user's uploaded job for the workers."""

    job_id: UUID
    user_id: UUID

    def __call__(self, aggregates: Aggregates) -> JobState:
        job = _own_job(aggregates, self.job_id, self.user_id)
        job.execute()
        return JobState.of(job)


@dataclass(frozen=True)
class CancelJob:
    """Cancel the user's job and refund its reservation in the same save."""

    job_id: UUID
    user_id: UUID
    reason: str

    def __call__(self, aggregates: Aggregates) -> JobState:
        job = _own_job(aggregates, self.job_id, self.user_id)
        credits = aggregates.get(UserCredits, job.user_id)
        job.cancel(self.reason)
        rollback(credits, job)
        return JobState.of(job)


@dataclass(frozen=True)
class RecordItemResult:
    """Record a report of one item, once per ``callback_key``."""

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
class ReportItem:
    """A worker reports one item: only the worker holding its lease, unless it records nothing."""

    report: RecordItemResult
    worker: str
    leases: Leases

    def prepare(self, saved: Aggregates) -> RecordItemResult:
        """Refuse a report from a worker without the item's lease, unless it records nothing.

        The lease's row is gone once the item is reported or the job ended, so a repeat (a
        known key), a late report of a reported item and a report on an ended job get their
        usual answer. The job is read as last saved: the queue's rows may lag it, never lead it.
        """
        report = self.report
        if self.leases.holder(report.item_index) == self.worker:
            return report
        job = saved.find(Job, report.job_id)
        if (
            job is None
            or job.status not in (JobStatus.QUEUED, JobStatus.RUNNING)
            or report.callback_key in job.callback_keys
            or not 0 <= report.item_index < job.item_count
            or str(report.item_index) in job.results
        ):
            return report  # not found, ignored, its first answer, or what it cannot do
        raise LeaseNotHeld(
            f"item {report.item_index} of job {report.job_id} is not leased to this worker; "
            "lease it first (POST /worker/leases)"
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


def rollback(credits: UserCredits, job: Job) -> None:
    if job.reserved:
        credits.rollback(str(job.id))


def _own_job(aggregates: Aggregates, job_id: UUID, user_id: UUID) -> Job:
    job = aggregates.find(Job, job_id)
    if job is None or job.user_id != user_id:
        raise NotFound(f"Job {job_id} not found")
    return job
