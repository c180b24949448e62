"""Job.expire_unstarted: a job uploaded or queued and never started is canceled at its deadline."""

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import InvalidCommand
from tests.unit.jobs import STATES, job_in

LATER = timedelta(seconds=1)


def since(job):
    """When the job began to wait for a worker or for its owner."""
    return job.queued_at or job.uploaded_at


@pytest.mark.parametrize(
    ("status", "reason"),
    [("uploaded", "execute deadline passed"), ("queued", "queue deadline passed")],
)
def test_a_job_waiting_since_before_the_deadline_is_canceled(status, reason):
    job = job_in(status)
    assert job.expire_unstarted(since(job) + LATER) is True
    assert (job.status, job.reason) == ("canceled", reason)


@pytest.mark.parametrize("status", ["uploaded", "queued"])
def test_a_job_waiting_since_after_the_deadline_is_left_alone(status):
    job = job_in(status)
    events = len(job.collect_events())
    assert job.expire_unstarted(since(job) - LATER) is False
    assert job.status == status and job.collect_events() == [] and events


@pytest.mark.parametrize("status", sorted(set(STATES) - {"uploaded", "queued"}))
def test_a_job_in_another_state_is_left_alone(status):
    job = job_in(status)
    job.collect_events()
    assert job.expire_unstarted(datetime.now(UTC) + timedelta(days=365)) is False
    assert job.status == status and job.collect_events() == []


def test_a_naive_deadline_is_refused():
    with pytest.raises(InvalidCommand, match="timezone-aware"):
        job_in("queued").expire_unstarted(datetime.now())
