"""Use cases on Job (with the user's credits), as commands for the executor.

A command that changes a job and the credits reserved for it does both in one command,
so both save in one transaction: no job without its reservation, no cancel without its
refund. Jobs of another user are reported as not found, so that existence does not leak.

Settlement: ``settle_job_credits`` (run by the process manager on a final job) commits
``consumed_credits`` of a done job and rolls back a failed or canceled one. ``cancel_job``,
``expire_upload`` and ``expire_stalled`` already roll back in the same command; the later
settle is then a no-op, as UserCredits' commit and rollback are idempotent per job id.
A job that reserves nothing (cost 0) holds no reservation, and settling it does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.base import Aggregates
from domain.commands.usercredits import Command, summary
from domain.errors import NotFound
from domain.job import CANCELED, DONE, FAILED, Job
from domain.usercredits import UserCredits


def create_job(
    job_id: UUID,
    user_id: UUID,
    preset: str,
    item_count: int,
    cost_per_item: int,
) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        # A job id is new (uuid4): a clash fails the save on the version check instead of
        # costing every creation a look-up.
        job = Job.create(job_id, user_id, preset, item_count, cost_per_item)
        credits = aggregates.get(UserCredits, user_id)
        if job.reserved:
            credits.reserve(str(job_id), job.reserved)
        aggregates.add(job)
        return {**job.view(), "credits": summary(credits)}

    return run


def get_upload_keys(job_id: UUID, user_id: UUID) -> Command:
    """The job's object keys and status (records nothing)."""

    def run(aggregates: Aggregates) -> dict[str, Any]:
        job = _own_job(aggregates, job_id, user_id)
        return {"status": job.status, "upload_keys": list(job.upload_keys)}

    return run


def confirm_upload(job_id: UUID, user_id: UUID) -> Command:
    return _on_own_job(job_id, user_id, lambda job: job.confirm_upload())


def execute_job(job_id: UUID, user_id: UUID) -> Command:
    return _on_own_job(job_id, user_id, lambda job: job.execute())


def cancel_job(job_id: UUID, user_id: UUID, reason: str) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        job = _own_job(aggregates, job_id, user_id)
        credits = aggregates.get(UserCredits, job.user_id)
        job.cancel(reason)
        _rollback(credits, job)
        return {**job.view(), "credits": summary(credits)}

    return run


def record_item_result(
    job_id: UUID,
    index: int,
    outcome: str,
    callback_key: str,
    result_key: str | None = None,
    error: str | None = None,
) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        job = aggregates.get(Job, job_id)
        answer = job.record_item_result(index, outcome, callback_key, result_key, error)
        return {"job_id": str(job_id), **answer}

    return run


def fail_item(job_id: UUID, index: int, reason: str, callback_key: str) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        answer = aggregates.get(Job, job_id).fail_item(index, reason, callback_key)
        return {"job_id": str(job_id), **answer}

    return run


def settle_job_credits(job_id: UUID) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        job = aggregates.get(Job, job_id)
        credits = aggregates.get(UserCredits, job.user_id)
        settlement = None
        if job.reserved and job.status == DONE:
            credits.commit(str(job_id), job.consumed_credits)
            settlement = "committed"
        elif job.reserved and job.status in (FAILED, CANCELED):
            credits.rollback(str(job_id))
            settlement = "rolled_back"
        return {**job.view(), "settlement": settlement, "credits": summary(credits)}

    return run


def expire_upload(job_id: UUID) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        job = aggregates.get(Job, job_id)
        credits = aggregates.get(UserCredits, job.user_id)
        expired = job.expire_upload()
        if expired:
            _rollback(credits, job)
        return {**job.view(), "expired": expired}

    return run


def expire_stalled(job_id: UUID, before: datetime) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        job = aggregates.get(Job, job_id)
        credits = aggregates.get(UserCredits, job.user_id)
        expired = job.expire_stalled(before)
        if expired:
            _rollback(credits, job)
        return {**job.view(), "expired": expired}

    return run


def _rollback(credits: UserCredits, job: Job) -> None:
    if job.reserved:
        credits.rollback(str(job.id))


def _own_job(aggregates: Aggregates, job_id: UUID, user_id: UUID) -> Job:
    job = aggregates.find(Job, job_id)
    if job is None or job.user_id != user_id:
        raise NotFound(f"Job {job_id} not found")
    return job


def _on_own_job(job_id: UUID, user_id: UUID, change: Callable[[Job], None]) -> Command:
    def run(aggregates: Aggregates) -> dict[str, Any]:
        job = _own_job(aggregates, job_id, user_id)
        change(job)
        return job.view()

    return run
