"""Jobs for the job tests: a new job, a job brought to any status, an in-memory store."""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.application import Application

from domain.job import Job

STATES = ["created", "uploaded", "queued", "running", "done", "failed", "canceled"]


def new_job(items: int = 3, cost: int = 2) -> Job:
    return Job.create(uuid4(), uuid4(), "upscale", items, cost)


def job_in(status: str, items: int = 3) -> Job:
    """A job brought to ``status`` through its commands."""
    job = new_job(items)
    if status == "canceled":
        job.cancel("changed my mind")
    if status in ("created", "canceled"):
        return job
    job.confirm_upload()
    if status != "uploaded":
        job.execute()
    if status in ("running", "done", "failed"):
        outcome = "failed" if status == "failed" else "succeeded"
        reported = items if status in ("done", "failed") else 1
        for index in range(reported):
            job.record_item_result(index, outcome, f"key-{index}")
    assert job.status == status
    return job


def event_names(job: Job) -> list[str]:
    return [type(e).__name__ for e in job.pending_events]


def in_memory_app() -> Application:
    return Application(
        env={"PERSISTENCE_MODULE": "eventsourcing.popo", "IS_SNAPSHOTTING_ENABLED": "y"}
    )
