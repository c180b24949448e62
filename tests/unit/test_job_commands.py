"""Job use cases through the real command executor, on the in-memory event store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from domain.commands import job as jobs
from domain.commands import jobendings as endings
from domain.commands.usercredits import GrantCredits, ReserveCredits, RollbackCredits
from domain.errors import (
    ConcurrentJobLimitReached,
    IllegalTransition,
    InsufficientCredits,
    InvalidCommand,
    NotFound,
    UploadsMissing,
)
from domain.job import Job
from domain.jobstatus import ItemReport
from domain.usercredits import RECENT_SETTLEMENTS, UserCredits
from eventstore.executor import CommandExecutor
from tests.fakes import Stored, presets

COST = 5


def create_job(user_id: UUID, items: int = 3, cost: int = COST) -> jobs.CreateJob:
    return jobs.CreateJob(uuid4(), user_id, "upscale", items, presets(cost))


def queued_job(run: Callable[[Any], Any], user_id: UUID, items: int = 3) -> UUID:
    job_id = run(create_job(user_id, items)).job_id
    run(jobs.ConfirmUpload(job_id, user_id, Stored()))
    run(jobs.ExecuteJob(job_id, user_id))
    return job_id


def report(run: Callable[[Any], Any], job_id: UUID, *outcomes: str) -> None:
    for index, outcome in enumerate(outcomes):
        run(jobs.RecordItemResult(job_id, index, outcome, f"key-{index}"))


def test_create_job_reserves_the_credits_with_the_job(
    run: Any, memory_app: Application, user: UUID
) -> None:
    created = run(create_job(user, items=3))

    job = memory_app.repository.get(created.job_id)
    credits = memory_app.repository.get(user)
    assert (job.status, job.reserved, created.reserved) == ("created", 15, 15)
    assert (credits.available, credits.reserved) == (85, 15)


def test_create_job_short_of_credits_saves_no_job(
    run: Any, memory_app: Application, user: UUID
) -> None:
    command = create_job(user, items=21)

    with pytest.raises(InsufficientCredits):
        run(command)

    assert memory_app.repository.get(user).version == 1
    assert _aggregates_of(memory_app, Job) == set()


def test_create_job_beyond_the_concurrent_limit_saves_no_job(
    run: Any, memory_app: Application, user: UUID
) -> None:
    run(create_job(user, items=1))
    run(create_job(user, items=1))

    with pytest.raises(ConcurrentJobLimitReached):
        run(create_job(user, items=1))

    assert len(_aggregates_of(memory_app, Job)) == 2


def test_a_job_that_costs_nothing_reserves_nothing(
    run: Any, memory_app: Application, user: UUID
) -> None:
    created = run(create_job(user, items=2, cost=0))

    assert (created.reserved, memory_app.repository.get(user).reserved) == (0, 0)


def test_cancel_job_refunds_the_reservation(run: Any, memory_app: Application, user: UUID) -> None:
    job_id = queued_job(run, user)

    canceled = run(jobs.CancelJob(job_id, user, "changed my mind"))

    credits = memory_app.repository.get(user)
    assert (canceled.status, credits.available, credits.reserved) == ("canceled", 100, 0)


def test_settle_commits_the_consumed_credits_and_refunds_the_rest(run: Any, user: UUID) -> None:
    job_id = queued_job(run, user, items=3)
    report(run, job_id, "succeeded", "failed", "succeeded")

    settled = run(endings.SettleJobCredits(job_id))

    assert (settled.job.status, settled.outcome, settled.job.succeeded) == ("done", "committed", 2)
    assert (settled.credits.available, settled.credits.reserved) == (90, 0)


def test_settle_twice_records_nothing_the_second_time(
    commands: CommandExecutor, run: Any, user: UUID
) -> None:
    job_id = queued_job(run, user, items=1)
    report(run, job_id, "succeeded")
    first = commands.execute(endings.SettleJobCredits(job_id))
    balance = first.result.credits.available

    again = commands.execute(endings.SettleJobCredits(job_id))

    assert (first.position is not None, again.position) == (True, None)
    assert (balance, again.result.credits.available, again.result.outcome) == (
        95,
        95,
        "committed",
    )


def test_settle_of_a_failed_job_refunds_everything(run: Any, user: UUID) -> None:
    job_id = queued_job(run, user, items=2)
    report(run, job_id, "failed", "failed")

    settled = run(endings.SettleJobCredits(job_id))

    assert (settled.job.status, settled.outcome, settled.credits.available) == (
        "failed",
        "rolled_back",
        100,
    )


def test_settle_of_a_running_job_does_nothing(run: Any, user: UUID) -> None:
    job_id = queued_job(run, user, items=2)
    report(run, job_id, "succeeded")

    settled = run(endings.SettleJobCredits(job_id))

    assert (settled.outcome, settled.credits.reserved) == (None, 15 - 5)


def settle_many_later(run: Callable[[Any], Any], user_id: UUID) -> None:
    """Enough later settlements that the user's credits forget the earlier ones."""
    for n in range(RECENT_SETTLEMENTS):
        run(ReserveCredits(user_id, f"later-{n}", 1))
        run(RollbackCredits(user_id, f"later-{n}"))


@pytest.mark.parametrize(("ending", "balance"), [("done", 95), ("canceled", 100)])
def test_settling_a_job_forgotten_by_the_credits_changes_nothing(
    commands: CommandExecutor,
    run: Any,
    memory_app: Application,
    user: UUID,
    ending: str,
    balance: int,
) -> None:
    job_id = queued_job(run, user, items=1)
    if ending == "done":
        report(run, job_id, "succeeded")
    else:
        run(jobs.CancelJob(job_id, user, "changed my mind"))
    run(endings.SettleJobCredits(job_id))
    settle_many_later(run, user)
    credits = memory_app.repository.get(user)
    assert isinstance(credits, UserCredits) and str(job_id) not in credits.settled

    again = commands.execute(endings.SettleJobCredits(job_id))

    assert (again.result.outcome, again.position) == ("already_settled", None)
    after = memory_app.repository.get(user)
    assert (after.version, after.available, after.reserved) == (credits.version, balance, 0)


def test_a_repeated_item_callback_answers_the_same_and_records_nothing(
    commands: CommandExecutor, run: Any, user: UUID
) -> None:
    job_id = queued_job(run, user)
    first = commands.execute(jobs.RecordItemResult(job_id, 0, "succeeded", "cb-0", "out/0"))

    again = commands.execute(jobs.RecordItemResult(job_id, 0, "succeeded", "cb-0", "out/0"))

    assert (again.result, again.position) == (first.result, None)


def test_a_lease_exhausted_item_is_failed_once(
    commands: CommandExecutor, run: Any, user: UUID
) -> None:
    job_id = queued_job(run, user, items=2)
    command = jobs.FailItem(job_id, 1, "lease expired 3 times", "lease-exhausted:1")
    first = commands.execute(command)

    again = commands.execute(command)

    assert first.result == again.result == ItemReport(job_id, 1, "failed", "recorded")
    assert again.position is None


def test_expire_upload_cancels_and_refunds_once(
    commands: CommandExecutor, run: Any, user: UUID
) -> None:
    job_id = run(create_job(user)).job_id
    expired = run(endings.ExpireUpload(job_id))

    again = commands.execute(endings.ExpireUpload(job_id))

    assert (expired.expired, expired.job.status, expired.job.reason) == (
        True,
        "canceled",
        "upload deadline passed",
    )
    assert (again.result.expired, again.position) == (False, None)
    assert run(GrantCredits(user, 1, "check")).available == 101


def test_expire_stalled_fails_the_job_and_refunds(run: Any, user: UUID) -> None:
    job_id = queued_job(run, user)
    report(run, job_id, "succeeded")

    expired = run(endings.ExpireStalled(job_id, datetime.now(UTC)))

    assert (expired.expired, expired.job.status, expired.job.reason) == (True, "failed", "stalled")
    assert run(endings.SettleJobCredits(job_id)).credits.available == 100


@pytest.mark.parametrize(
    "command",
    [
        lambda job_id, user_id: jobs.ConfirmUpload(job_id, user_id, Stored()),
        lambda job_id, user_id: jobs.ExecuteJob(job_id, user_id),
        lambda job_id, user_id: jobs.CancelJob(job_id, user_id, "not mine"),
    ],
    ids=["confirm_upload", "execute_job", "cancel_job"],
)
def test_another_users_job_is_not_found(run: Any, user: UUID, command: Any) -> None:
    job_id = run(create_job(user)).job_id
    missing_id = uuid4()
    with pytest.raises(NotFound) as missing:
        run(command(missing_id, uuid4()))

    with pytest.raises(NotFound) as foreign:
        run(command(job_id, uuid4()))

    assert foreign.value.message == missing.value.message.replace(str(missing_id), str(job_id))


def test_confirm_upload_is_refused_while_an_upload_is_missing(
    run: Any, memory_app: Application, user: UUID
) -> None:
    job_id = run(create_job(user, items=2)).job_id
    missing = f"uploads/{user}/{job_id}/1"

    with pytest.raises(UploadsMissing, match=f"1 of 2 uploads are missing: {missing}"):
        run(jobs.ConfirmUpload(job_id, user, Stored(missing)))

    assert memory_app.repository.get(job_id).status == "created"


def test_confirm_upload_asks_storage_only_while_uploads_are_awaited(run: Any, user: UUID) -> None:
    job_id = queued_job(run, user)  # uploaded, then queued

    with pytest.raises(IllegalTransition, match="confirm_upload needs 'created'"):
        run(jobs.ConfirmUpload(job_id, user, Stored(f"uploads/{user}/{job_id}/0")))


def test_create_job_resolves_its_preset_and_checks_its_items(run: Any, user: UUID) -> None:
    with pytest.raises(InvalidCommand, match="unknown preset 'nope'"):
        run(jobs.CreateJob(uuid4(), user, "nope", 1, presets()))

    with pytest.raises(InvalidCommand, match="takes 1 to 100 items, not 101"):
        run(jobs.CreateJob(uuid4(), user, "upscale", 101, presets()))


def _aggregates_of(app: Application, cls: type) -> set[UUID]:
    notifications = app.recorder.select_notifications(start=1, limit=10_000)
    return {
        n.originator_id
        for n in notifications
        if n.topic.startswith(f"{cls.__module__}:{cls.__qualname__}.")
    }
