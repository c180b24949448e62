"""Where one command's latency goes on one thread, from a bare INSERT up to the command executor.

Run from the repository root: ``.venv/bin/python -m bench.breakdown [--dsn DSN]``. Each step
adds one layer to the one before; steps run in interleaved rounds, and the first is a warm-up.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
import warnings
from collections.abc import Callable
from uuid import uuid4

import psycopg
from eventsourcing.persistence import StoredEvent

from bench import raw
from bench.arrayappend import RECORDER_TOPIC
from bench.library import BALANCE, HOT_PLAN, register_hot_plan
from bench.server import scratch_database
from domain.commands.usercredits import CommitCredits, OpenAccount, ReserveCredits
from domain.usercredits import UserCredits
from eventstore.application import Chronicle, library_env, open_application
from eventstore.executor import CommandExecutor
from eventstore.records import IdempotencyRecord

LOCK = "LOCK TABLE bench_raw_events IN EXCLUSIVE MODE"
NOTIFY = "NOTIFY bench_raw_events"
GROUP = 16


def sql_steps(conn: psycopg.Connection) -> dict[str, Callable[[], object]]:
    """Hand-written psycopg: a bare INSERT, then the library's transaction shape piece by piece."""

    def insert(statements: tuple[str, ...] = ()) -> Callable[[], object]:
        stream, versions = uuid4(), itertools.count(1)

        def step() -> None:
            with conn.transaction():
                for statement in statements:
                    conn.execute(statement)
                conn.execute(raw.INSERT, (stream, next(versions), raw.TOPIC, raw.payload()))

        return step

    stream, versions = uuid4(), itertools.count(1)
    return {
        "psycopg: autocommit INSERT (baseline a)": lambda: conn.execute(
            raw.INSERT, (stream, next(versions), raw.TOPIC, raw.payload())
        ),
        "psycopg: + BEGIN/COMMIT": insert(),
        "psycopg: + LOCK TABLE ... EXCLUSIVE": insert((LOCK,)),
        "psycopg: + NOTIFY": insert((LOCK, NOTIFY)),
    }


def library_steps(
    app: Chronicle, executor: CommandExecutor, label: str = ""
) -> dict[str, Callable[[], object]]:
    """The library's recorder, ``Application.save``, and the command executor.

    ``label`` follows each step's name: the steps of two recorders can run side by side.
    """
    stream, versions = uuid4(), itertools.count(1)
    credits = UserCredits.open(uuid4(), HOT_PLAN.name, BALANCE)
    app.save(credits)
    user_id = uuid4()
    executor.execute(OpenAccount(user_id, HOT_PLAN.name, BALANCE))
    saves, commands = itertools.count(), itertools.count()

    def save() -> None:
        n = next(saves)
        job = f"job-{n // 2}"
        if n % 2 == 0:
            credits.reserve(job, 1)
        else:
            credits.commit(job, 1)
        app.save(credits)

    def execute() -> None:
        n = next(commands)
        job = f"job-{n // 2}"
        run = ReserveCredits(user_id, job, 1) if n % 2 == 0 else CommitCredits(user_id, job, 1)
        executor.execute(run)

    def group() -> None:
        """A group commit's append: 16 commands' events, each with its stored outcome."""
        events = [StoredEvent(uuid4(), 1, raw.TOPIC, raw.payload()) for _ in range(GROUP)]
        records = [
            IdempotencyRecord(str(uuid4()), "fp", {"outcome": {}}, (n,)) for n in range(GROUP)
        ]
        app.recorder.insert_events(events, idempotency=records)

    return {
        f"insert_events{label}": lambda: app.recorder.insert_events(
            [StoredEvent(stream, next(versions), raw.TOPIC, raw.payload())]
        ),
        f"insert_events, {GROUP} + outcomes{label}": group,
        f"Application.save (+ mapper){label}": save,
        f"CommandExecutor.execute{label}": execute,
    }


def measure(steps: dict[str, Callable[[], object]], rounds: int, per_round: int) -> None:
    """Print each step's median latency and client CPU time per call."""
    wall: dict[str, list[float]] = {name: [] for name in steps}
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    for number in range(rounds + 1):
        for name, step in steps.items():
            cpu_start = time.process_time()
            for _ in range(per_round):
                started = time.perf_counter()
                step()
                if number:
                    wall[name].append(time.perf_counter() - started)
            if number:
                cpu[name].append((time.process_time() - cpu_start) / per_round)
    for name in steps:
        print(
            f"{name:42}{1000 * statistics.median(wall[name]):8.3f} ms median"
            f"{1000 * statistics.median(cpu[name]):8.3f} ms process CPU"
        )


def main() -> None:
    """Measure every step on one scratch database."""
    parser = argparse.ArgumentParser(prog="python -m bench.breakdown", description=__doc__)
    parser.add_argument("--dsn", default=os.environ.get("CHRONICLE_BENCH_DSN"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=400)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR")
    register_hot_plan()
    with scratch_database(args.dsn) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        raw.create_table(dsn)
        app = open_application(dsn, pool_size=2)
        executor = CommandExecutor(app)
        # The same layers on the append before migration 0019 (nine arrays): the baseline.
        before = Chronicle(
            env={**library_env(dsn, pool_size=2), "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC}
        )
        executor_before = CommandExecutor(before)
        try:
            pairs = zip(
                library_steps(before, executor_before, " (arrays)").items(),
                library_steps(app, executor, " (JSON)").items(),
                strict=True,
            )
            steps = {**sql_steps(conn), **dict(step for pair in pairs for step in pair)}
            measure(steps, args.rounds, args.per_round)
        finally:
            for running in (executor, executor_before):
                running.close()
            for opened in (app, before):
                opened.close()


if __name__ == "__main__":
    main()
