"""The calls the jobs benchmark makes, and a driver that runs a fixed set of them to the end."""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from uuid import UUID

import httpx

from bench.harness import MAX_TRACEBACKS, Client, Run, Tally
from bench.jobsetup import BenchJob
from domain.commands.job import RecordItemResult
from domain.commands.usercredits import GrantCredits
from domain.jobstatus import ItemOutcome
from eventstore.executor import CommandExecutor

Call = Callable[[int], object]
"""One request or command; the int is the item index (or a sequence number)."""

JOB_PRESET, JOB_ITEMS = "portrait", 2


def drive_items(calls: list[Call], items: int) -> Run:
    """Thread ``i`` runs ``calls[i]`` over its own contiguous slice of ``range(items)``.

    The run lasts from the moment all threads are released until the last call returns.
    """
    tallies = [Tally() for _ in calls]
    window: list[float] = []
    start = threading.Barrier(len(calls), action=lambda: window.append(time.perf_counter()))
    bounds = [items * i // len(calls) for i in range(len(calls) + 1)]

    def loop(call: Call, tally: Tally, first: int, end: int) -> None:
        start.wait()
        for index in range(first, end):
            tally.measure(functools.partial(call, index))

    threads = [
        threading.Thread(target=loop, args=(call, tally, bounds[i], bounds[i + 1]), daemon=True)
        for i, (call, tally) in enumerate(zip(calls, tallies, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ends = [end for t in tallies for end, _ in t.done]
    errors: Counter[str] = Counter()
    for tally in tallies:
        errors.update(tally.domain_errors)
    return Run(
        seconds=(max(ends) if ends else time.perf_counter()) - window[0],
        latencies=[latency for t in tallies for _, latency in t.done],
        conflicts=0,
        abandoned=0,
        domain_errors=errors,
        unexpected=sum(t.unexpected for t in tallies),
        tracebacks=[tb for t in tallies for tb in t.tracebacks][:MAX_TRACEBACKS],
    )


def windowed(call: Call, acked: Counter[UUID] | None = None, key: UUID | None = None) -> Client:
    """``call`` as a client of ``harness.drive`` (a fixed window); count successes under ``key``.

    Each client counts under its own key, so no two threads update one entry.
    """
    sequence = itertools.count()

    def iteration(tally: Tally, deadline: float) -> None:
        if tally.measure(lambda: call(next(sequence))) and acked is not None and key is not None:
            acked[key] += 1

    return iteration


def executor_callback(executor: CommandExecutor, job: BenchJob) -> Call:
    """Report item ``index`` succeeded, straight to the command executor (no HTTP)."""

    def call(index: int) -> object:
        return executor.execute(
            RecordItemResult(
                job.job_id, index, ItemOutcome.SUCCEEDED, f"cb-{index}", job.result_key(index)
            )
        )

    return call


def executor_grant(executor: CommandExecutor, user_id: UUID) -> Call:
    """Grant one credit to one hot user: one small event per command (the baseline)."""
    return lambda index: executor.execute(GrantCredits(user_id, 1, "bench"))


def http_callback(client: httpx.Client, token: str, job: BenchJob) -> Call:
    """``POST /jobs/{id}/callback`` for item ``index``, as a worker; it must be recorded."""
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/jobs/{job.job_id}/callback"

    def call(index: int) -> object:
        body = {
            "item_index": index,
            "outcome": ItemOutcome.SUCCEEDED,
            "idempotency_key": f"cb-{index}",
            "result_key": job.result_key(index),
        }
        answer = client.post(path, json=body, headers=headers).raise_for_status().json()
        if answer["status"] != "recorded":
            raise AssertionError(f"item {index}: answered {answer}")
        return answer

    return call


def http_callbacks(client: httpx.Client, token: str, job: BenchJob, size: int) -> Call:
    """``POST /jobs/{id}/callbacks`` for the ``size`` items of batch ``index``: all recorded."""
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/jobs/{job.job_id}/callbacks"

    def call(index: int) -> object:
        first = index * size
        items = [
            {
                "item_index": i,
                "outcome": ItemOutcome.SUCCEEDED,
                "idempotency_key": f"cb-{i}",
                "result_key": job.result_key(i),
            }
            for i in range(first, min(first + size, job.items))
        ]
        response = client.post(path, json={"items": items}, headers=headers).raise_for_status()
        answers = response.json()["answers"]
        if len(answers) != len(items) or any(
            a["status_code"] != 200 or a["answer"]["status"] != "recorded" for a in answers
        ):
            raise AssertionError(f"items from {first}: answered {answers}")
        return answers

    return call


def http_me(client: httpx.Client, token: str) -> Call:
    """``GET /me``: the caller's account, read from the ``user_summary`` read model."""
    headers = {"Authorization": f"Bearer {token}"}
    return lambda index: client.get("/me", headers=headers).raise_for_status()


def http_health(client: httpx.Client) -> Call:
    """``GET /health``: no I/O, no auth (the trivial endpoint)."""
    return lambda index: client.get("/health").raise_for_status()


def http_create_job(client: httpx.Client, token: str) -> Call:
    """``POST /jobs``: reserve credits and create a job; it must answer one URL per item."""
    headers = {"Authorization": f"Bearer {token}"}
    body = {"preset": JOB_PRESET, "item_count": JOB_ITEMS}

    def call(index: int) -> object:
        created = client.post("/jobs", json=body, headers=headers).raise_for_status().json()
        if len(created["uploads"]) != JOB_ITEMS:
            raise AssertionError(f"POST /jobs answered {created}")
        return created

    return call


def http_clients(url: str, count: int) -> list[httpx.Client]:
    """``count`` keep-alive clients, each already connected (one GET /health)."""
    clients = [httpx.Client(base_url=url, timeout=30) for _ in range(count)]
    for client in clients:
        client.get("/health").raise_for_status()
    return clients
