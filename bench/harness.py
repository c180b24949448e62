"""Client threads that run a subject for a fixed window and what they measured."""

from __future__ import annotations

import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.errors import ChronicleError

MAX_TRACEBACKS = 3


class Abandoned(Exception):
    """A command given up on after the window closed (neither a success nor an error)."""


@dataclass
class Tally:
    """What one client thread saw: its successful commands, conflicts and errors."""

    done: list[tuple[float, float]] = field(default_factory=list)
    conflicts: int = 0
    abandoned: int = 0
    domain_errors: Counter[str] = field(default_factory=Counter)
    unexpected: int = 0
    tracebacks: list[str] = field(default_factory=list)

    def measure(self, command: Callable[[], object]) -> bool:
        """Run one command, record its end time and latency, and say whether it succeeded."""
        started = time.perf_counter()
        try:
            command()
        except Abandoned:
            self.abandoned += 1
            return False
        except ChronicleError as error:
            self.domain_errors[type(error).__name__] += 1
            return False
        except Exception:
            self.unexpected += 1
            if len(self.tracebacks) < MAX_TRACEBACKS:
                self.tracebacks.append(traceback.format_exc())
            return False
        ended = time.perf_counter()
        self.done.append((ended, ended - started))
        return True


@dataclass(frozen=True)
class Scenario:
    """How many client threads, and whether they all work on one hot user."""

    label: str
    clients: int
    hot: bool


Client = Callable[[Tally, float], None]
"""One iteration of a client: run its commands into the tally; the float is the window's end."""


@dataclass
class Run:
    """One measured window: the commands that completed inside it and everything that went wrong."""

    seconds: float
    latencies: list[float]
    conflicts: int
    abandoned: int
    domain_errors: Counter[str]
    unexpected: int
    tracebacks: list[str]
    check_failures: list[str] = field(default_factory=list)
    per_transaction: float = 1.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, fraction: float) -> float:
        """The latency (ms) below which ``fraction`` of the commands completed."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def drive(clients: list[Client], seconds: float) -> Run:
    """Run every client in its own thread for ``seconds`` and merge what they measured."""
    tallies = [Tally() for _ in clients]
    window: list[float] = []
    start = threading.Barrier(len(clients), action=lambda: window.append(time.perf_counter()))

    def loop(client: Client, tally: Tally) -> None:
        start.wait()
        deadline = window[0] + seconds
        while time.perf_counter() < deadline:
            client(tally, deadline)

    threads = [
        threading.Thread(target=loop, args=(c, t), name=f"client-{i}", daemon=True)
        for i, (c, t) in enumerate(zip(clients, tallies, strict=True))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _merge(tallies, window[0], seconds)


def _merge(tallies: list[Tally], started: float, seconds: float) -> Run:
    deadline = started + seconds
    errors: Counter[str] = Counter()
    for tally in tallies:
        errors.update(tally.domain_errors)
    return Run(
        seconds=seconds,
        latencies=[lat for t in tallies for end, lat in t.done if end <= deadline],
        conflicts=sum(t.conflicts for t in tallies),
        abandoned=sum(t.abandoned for t in tallies),
        domain_errors=errors,
        unexpected=sum(t.unexpected for t in tallies),
        tracebacks=[tb for t in tallies for tb in t.tracebacks][:MAX_TRACEBACKS],
    )


def median_run(runs: list[Run]) -> Run:
    """The run whose rate is the median of ``runs``."""
    return sorted(runs, key=lambda r: r.rate)[len(runs) // 2]
