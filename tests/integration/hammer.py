"""Many threads reserving and settling credits on one user; run in-process or as a process.

``python -m tests.integration.hammer DSN USER_ID THREADS ATTEMPTS SEED`` prints a JSON tally.
"""

from __future__ import annotations

import json
import random
import sys
import threading
from collections import Counter
from typing import Any
from uuid import UUID

from domain.commands import usercredits as credits
from domain.errors import ChronicleError, InsufficientCredits, VersionConflict
from eventstore.executor import CommandExecutor


def hammer(
    executor: CommandExecutor, user_id: UUID, threads: int, attempts: int, seed: int
) -> dict[str, Any]:
    """``threads`` × ``attempts`` reserve-then-commit-or-rollback; a tally of what happened."""
    tally: Counter[str] = Counter()
    lock = threading.Lock()

    def client(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        for k in range(attempts):
            job_id = f"{seed}-{n}-{k}"
            amount = rng.randint(1, 10)
            outcome = _settle(executor, user_id, job_id, amount, rng)
            with lock:
                tally.update(outcome)

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return dict(tally)


def _settle(
    executor: CommandExecutor, user_id: UUID, job_id: str, amount: int, rng: random.Random
) -> Counter[str]:
    tally: Counter[str] = Counter()
    try:
        _retrying(executor, credits.ReserveCredits(user_id, job_id, amount), tally)
    except InsufficientCredits:
        tally["insufficient"] += 1
        return tally
    except Exception as exc:  # anything else is a failure the test reports
        tally[f"unexpected:{type(exc).__name__}"] += 1
        return tally
    try:
        if rng.random() < 0.7:
            consumed = rng.randint(0, amount)
            _retrying(executor, credits.CommitCredits(user_id, job_id, consumed), tally)
            tally["committed"] += 1
            tally["consumed"] += consumed
        else:
            _retrying(executor, credits.RollbackCredits(user_id, job_id), tally)
            tally["rolled_back"] += 1
    except Exception as exc:
        tally[f"unexpected:{type(exc).__name__}"] += 1
    return tally


def _retrying(executor: CommandExecutor, command: Any, tally: Counter[str]) -> None:
    """Run ``command``, repeating it on VersionConflict as a client would on a 409."""
    while True:
        try:
            executor.execute(command)
            return
        except VersionConflict:
            tally["version_conflicts"] += 1
        except ChronicleError:
            raise


def main() -> None:
    from eventstore.application import open_application

    dsn, user_id, threads, attempts, seed = sys.argv[1:6]
    app = open_application(dsn, pool_size=int(threads) + 2)
    executor = CommandExecutor(app)
    try:
        print("ready", flush=True)
        sys.stdin.readline()  # start together with the other processes
        tally = hammer(executor, UUID(user_id), int(threads), int(attempts), int(seed))
        print(json.dumps({**tally, "executor_conflicts": executor.conflicts}))
    finally:
        executor.close()
        app.close()


if __name__ == "__main__":
    main()
