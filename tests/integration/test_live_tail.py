"""The live tail on real PostgreSQL: one reader of ``audit_log`` per process, its rows handed to
each subscription that wants them, a bounded memory of the newest, and a bounded queue each."""

import asyncio
from uuid import uuid4

import pytest

from domain.commands import usercredits as credits
from eventstore.database import read_pool
from projections.audit.live import LiveTail
from projections.engine.runner import ProjectionRunner
from projections.engine.watcher import LogWatcher
from projections.registry import all_projections
from tests.integration.test_projections import head


@pytest.fixture
def following(app, clean_dsn):
    """The projections following the log; yields (pool, watcher, wait for the head)."""
    watcher = LogWatcher(clean_dsn).start()
    runner = ProjectionRunner(clean_dsn, app, all_projections(), watcher, poll_seconds=0.1)
    runner.start()
    with read_pool(clean_dsn, size=2, wait_seconds=5) as pool:

        def caught_up() -> int:
            position = head(clean_dsn)
            assert watcher.wait_for_position(["audit_log"], position, timeout=30)
            return position

        yield pool, watcher, caught_up
    runner.stop()
    watcher.stop()


def _grants(executor, user_id, count: int) -> list[int]:
    return [
        executor.execute(credits.GrantCredits(user_id, 1, f"grant {n}")).position
        for n in range(count)
    ]


async def _collect(sub, until: int) -> list[int]:
    positions: list[int] = []
    while not positions or positions[-1] < until:
        await asyncio.wait_for(sub.wait(30), 31)
        positions += [row["position"] for row in sub.take()]
    return positions


def test_each_subscription_gets_the_rows_it_matches_in_log_order(following, executor):
    pool, watcher, caught_up = following
    ann, bob = uuid4(), uuid4()
    executor.execute(credits.OpenAccount(ann, "free", 0))
    executor.execute(credits.OpenAccount(bob, "free", 0))
    start = caught_up()
    tail = LiveTail(pool, watcher, poll_seconds=0.2)

    async def scenario():
        anns = tail.subscribe(lambda row: row["aggregate_id"] == ann, start, limit=100)
        every = tail.subscribe(lambda row: True, start, limit=100)
        ann_positions = await asyncio.to_thread(_grants, executor, ann, 3)
        bob_positions = await asyncio.to_thread(_grants, executor, bob, 2)
        return (
            await _collect(anns, ann_positions[-1]),
            await _collect(every, bob_positions[-1]),
            ann_positions,
            bob_positions,
        )

    try:
        got_ann, got_every, ann_positions, bob_positions = asyncio.run(scenario())
    finally:
        tail.stop()

    assert got_ann == ann_positions
    assert got_every == sorted(ann_positions + bob_positions)


def test_a_resume_within_the_kept_rows_reads_nothing_and_one_before_them_reads_the_model(
    following, executor
):
    pool, watcher, caught_up = following
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 0))
    start = caught_up()
    tail = LiveTail(pool, watcher, keep=5, poll_seconds=0.2)

    async def scenario():
        first = tail.subscribe(lambda row: True, start, limit=100)  # starts the tail
        positions = await asyncio.to_thread(_grants, executor, user_id, 8)
        await _collect(first, positions[-1])
        recent = tail.subscribe(lambda row: True, positions[-3], limit=100)
        old = tail.subscribe(lambda row: True, start, limit=100)
        return positions, recent, old

    try:
        positions, recent, old = asyncio.run(scenario())
    finally:
        tail.stop()

    assert recent.history_until == 0  # all it needs is in memory, handed over at once
    assert [row["position"] for row in recent.take()] == positions[-2:]
    assert old.history_until == positions[-6]  # the 5 newest are kept: read up to the 6th
    assert [row["position"] for row in old.take()] == positions[-5:]


def test_a_subscription_with_more_rows_waiting_than_its_limit_is_cut(following, executor):
    pool, watcher, caught_up = following
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "free", 0))
    start = caught_up()
    tail = LiveTail(pool, watcher, poll_seconds=0.2)
    disconnected = []

    async def scenario():
        sub = tail.subscribe(lambda row: True, start, limit=3)
        sub.on_cut = lambda: disconnected.append(True)
        await asyncio.to_thread(_grants, executor, user_id, 6)
        await asyncio.to_thread(caught_up)
        while not sub.cut:
            await sub.wait(30)  # never taken: the rows pile up
        return sub

    try:
        sub = asyncio.run(scenario())
    finally:
        tail.stop()

    assert sub.cut and not sub.closed
    assert disconnected == [True]
    assert sub.take() == []  # nothing kept once cut: it resumes by position
