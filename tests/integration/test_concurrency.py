"""Many clients on one user's credits: nothing overspent, nothing lost, nothing counted twice."""

import json
import subprocess
import sys
from uuid import uuid4

from domain.commands import usercredits as credits
from domain.plans import get_plan
from tests.integration.folds import consumed_total
from tests.integration.hammer import hammer

BALANCE = 5_000  # about 80 % of what 3,200 attempts would spend: it runs out near the end


def open_hot_user(executor):
    user_id = uuid4()
    executor.execute(credits.OpenAccount(user_id, "pro", BALANCE))
    assert get_plan("pro").max_concurrent_jobs >= 16  # the plan limit is not what stops them
    return user_id


def assert_balance_is_the_fold(app, user_id, consumed_by_clients):
    account = app.repository.get(user_id)
    consumed = consumed_total(app, user_id)
    assert consumed == consumed_by_clients
    assert consumed <= BALANCE
    assert account.reserved == 0 and account.active_jobs == 0
    assert account.available == BALANCE - consumed


def test_sixteen_threads_never_overspend_one_user(executor, app):
    user_id = open_hot_user(executor)
    tally = hammer(executor, user_id, threads=16, attempts=200, seed=1)
    assert not [k for k in tally if k.startswith("unexpected")], tally
    assert tally["committed"] + tally["rolled_back"] + tally.get("insufficient", 0) == 16 * 200
    assert tally.get("insufficient", 0) > 0  # the balance, not the plan, is what ran out
    assert_balance_is_the_fold(app, user_id, tally.get("consumed", 0))


def test_two_processes_never_overspend_one_user(executor, app, clean_dsn):
    """The same 16 clients, split over two processes: their version checks serialise them."""
    user_id = open_hot_user(executor)
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.hammer",
                clean_dsn,
                str(user_id),
                "8",
                "200",
                str(seed),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in (11, 12)
    ]
    for process in processes:
        assert process.stdout.readline().strip() == "ready", process.stderr.read()
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    tallies = []
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err[-3000:]
        tallies.append(json.loads(out))
    for tally in tallies:
        assert not [k for k in tally if k.startswith("unexpected")], tally
        settled = tally.get("committed", 0) + tally.get("rolled_back", 0)
        assert settled + tally.get("insufficient", 0) == 8 * 200
    assert sum(t["executor_conflicts"] for t in tallies) > 0  # the version check did serialise
    consumed = sum(t.get("consumed", 0) for t in tallies)
    assert_balance_is_the_fold(app, user_id, consumed)
