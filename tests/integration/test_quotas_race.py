"""A daily quota holds across processes: two executors racing on one user never let one job more."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest

from domain.commands.job import CreateJob
from domain.commands.usercredits import OpenAccount
from domain.errors import QuotaExceeded
from domain.quotas import JOBS, Quotas
from eventstore.application import open_application
from eventstore.executor import CommandExecutor
from tests.fakes import SHIPPED

pytestmark = pytest.mark.postgres
QUOTA = Quotas({"pro": {JOBS: 5}})


def test_two_executors_never_start_more_jobs_than_the_quota(clean_dsn: str) -> None:
    apps = [open_application(clean_dsn, pool_size=4) for _ in range(2)]
    executors = [CommandExecutor(app, max_attempts=200) for app in apps]
    try:
        user = uuid4()
        executors[0].execute(OpenAccount(user, "pro", 1000))

        def create(n: int) -> str:
            command = CreateJob(uuid4(), user, "portrait", 1, SHIPPED, QUOTA, "2026-12-04")
            try:
                executors[n % 2].execute(command)
            except QuotaExceeded:
                return "refused"
            return "created"

        with ThreadPoolExecutor(12) as pool:
            outcomes = list(pool.map(create, range(12)))

        credits = apps[1].repository.get(user)
        assert sorted(outcomes) == ["created"] * 5 + ["refused"] * 7
        assert (credits.used(JOBS, "2026-12-04"), credits.active_jobs) == (5, 5)
    finally:
        for executor in executors:
            executor.close()
        for app in apps:
            app.close()
