"""Daily quotas as a rule of the user's credits: counted per UTC day, refused past the plan's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from domain.commands import job as jobs
from domain.errors import QuotaExceeded
from domain.quotas import JOBS, Quotas, resets_at
from domain.usercredits import UserCredits
from eventstore.application import Chronicle
from tests.fakes import presets
from tests.unit.test_golden_events import stored

GOLDEN = Path(__file__).parents[1] / "golden"
ONE_A_DAY = Quotas({"free": {JOBS: 1}})


def test_uses_are_counted_per_day_and_refused_past_the_limit() -> None:
    credits = UserCredits.open(uuid4(), "free", 10)
    credits.use_quota(JOBS, "2026-12-04", 2)
    credits.use_quota(JOBS, "2026-12-04", 2)

    with pytest.raises(QuotaExceeded) as refused:
        credits.use_quota(JOBS, "2026-12-04", 2)

    assert refused.value.details == {
        "kind": "jobs",
        "limit": 2,
        "used": 2,
        "resets_at": "2026-12-05T00:00:00+00:00",
    }
    credits.use_quota(JOBS, "2026-12-05", 2)  # a new day starts a new count
    assert (credits.used(JOBS, "2026-12-04"), credits.used(JOBS, "2026-12-05")) == (0, 1)


def test_no_limit_counts_without_refusing() -> None:
    credits = UserCredits.open(uuid4(), "pro", 0)
    for _ in range(3):
        credits.use_quota(JOBS, "2026-12-04", None)

    assert credits.used(JOBS, "2026-12-04") == 3


def test_a_job_past_the_quota_is_refused_and_saves_nothing(
    run: Any, memory_app: Application, user: UUID
) -> None:
    run(jobs.CreateJob(uuid4(), user, "upscale", 1, presets(), ONE_A_DAY, "2026-12-04"))
    refused = jobs.CreateJob(uuid4(), user, "upscale", 1, presets(), ONE_A_DAY, "2026-12-04")

    with pytest.raises(QuotaExceeded, match="allows 1 jobs a day; 1 used on 2026-12-04"):
        run(refused)

    credits = memory_app.repository.get(user)
    assert (credits.active_jobs, credits.used(JOBS, "2026-12-04")) == (1, 1)
    run(jobs.CreateJob(uuid4(), user, "upscale", 1, presets(), ONE_A_DAY, "2026-12-05"))


def test_credits_snapshotted_before_usage_existed_load_with_none_counted() -> None:
    app = Chronicle()
    rows = json.loads((GOLDEN / "events_v1.json").read_text(encoding="utf-8"))["snapshots"]
    app.snapshots.recorder.insert_events([stored(row) for row in rows])
    user_id = UUID("00000000-0000-4000-8000-000000000001")  # the credits of v1

    credits = app.repository.get(user_id)

    assert credits.usage == {} and credits.used(JOBS, "2026-12-04") == 0


def test_stored_quota_uses_load_and_count() -> None:
    app = Chronicle()
    rows = json.loads((GOLDEN / "events_v4.json").read_text(encoding="utf-8"))["events"]
    app.recorder.insert_events([stored(row) for row in rows])

    credits = app.repository.get(UUID(rows[0]["originator_id"]))

    assert (credits.used(JOBS, "2026-12-03"), credits.used(JOBS, "2026-12-04")) == (0, 2)
    assert resets_at("2026-12-04").isoformat() == "2026-12-05T00:00:00+00:00"
