"""The test-site benchmark's setup and lag probe: published tests, and commit → visible times.

Tests are created and saved through a command executor in the bench process (the server's
projectors and reactors see them in the shared event log). The lag probe listens on the
channel where every projection and reactor announces its new position, so "visible" is the
moment the consumer committed past the save's position, as its own NOTIFY reports it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg

from domain.commands.testdocument import (
    CreateTestDocument,
    PublishTestDocument,
    SaveTestDocument,
)
from domain.mbti import AXES, TYPES
from eventstore.executor import CommandExecutor
from projections.engine.watcher import POSITIONS_CHANNEL

CONSUMERS = ("test_catalog", "test_search", "test_cache_purge")
METADATA = {"actor": "admin:bench", "correlation_id": "bench", "causation_id": "bench"}


def document(index: int, revision: int = 0) -> dict[str, object]:
    """A valid test: every other one Korean-titled, the rest English ("personality")."""
    korean = index % 2 == 0
    title = f"여행 성향 테스트 {index}" if korean else f"Personality quiz {index}"
    questions = [
        {
            "text": f"Which {axis}?",
            "choices": [
                {"text": axis[0], "axis": axis, "pole": axis[0], "weight": 1},
                {"text": axis[1], "axis": axis, "pole": axis[1], "weight": 1},
            ],
        }
        for axis in AXES
    ]
    return {
        "title": f"{title} r{revision}" if revision else title,
        "description": "해외여행 좋아하세요?" if korean else "Which traveller are you?",
        "tags": ["여행", "travel"] if korean else ["personality"],
        "questions": questions,
        "results": {mbti: {"title": f"The {mbti}", "description": "..."} for mbti in TYPES},
    }


def publish_tests(executor: CommandExecutor, count: int, threads: int = 8) -> list[uuid.UUID]:
    """``count`` new published tests; their ids, in creation order."""
    ids = [uuid.uuid4() for _ in range(count)]

    def create(index: int) -> None:
        executor.execute(CreateTestDocument(ids[index], document(index)), metadata=METADATA)
        executor.execute(PublishTestDocument(ids[index]), metadata=METADATA)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(create, range(count)))
    return ids


def wait_caught_up(dsn: str, names: Iterable[str] = CONSUMERS, timeout: float = 300) -> None:
    """Return once every consumer in ``names`` reached the log's head (polled: setup only)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            head = conn.execute("SELECT coalesce(max(notification_id), 0) FROM chronicle_events")
            target = head.fetchone()[0]  # type: ignore[index]
            rows = conn.execute("SELECT name, position FROM projection_position").fetchall()
            reached = {name: position for name, position in rows}
            if all(reached.get(name, 0) >= target for name in names):
                return
            time.sleep(0.2)
    raise RuntimeError(f"{', '.join(names)} did not catch up within {timeout:g}s")


@dataclass
class Lags:
    """Commit → visible seconds of each save, per consumer."""

    by_consumer: dict[str, list[float]] = field(default_factory=dict)
    saves: int = 0


class PositionListener:
    """Records when each consumer announced each of its positions (LISTEN in a thread)."""

    def __init__(self, dsn: str) -> None:
        self._conn = psycopg.connect(dsn, autocommit=True)
        self._conn.execute(f"LISTEN {POSITIONS_CHANNEL}")
        self.announced: list[tuple[float, str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            for notify in self._conn.notifies(timeout=0.2):
                name, _, position = notify.payload.rpartition(":")
                self.announced.append((time.perf_counter(), name, int(position)))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._conn.close()

    def first_reached(self, name: str, position: int) -> float | None:
        """When ``name`` first announced a position at or past ``position``."""
        times = [at for at, who, pos in self.announced if who == name and pos >= position]
        return min(times) if times else None


def measure_lag(
    dsn: str, executor: CommandExecutor, ids: list[uuid.UUID], per_second: float, seconds: float
) -> Lags:
    """Save titles at a steady rate for ``seconds``; each save's lag to every consumer."""
    listener = PositionListener(dsn)
    versions: dict[uuid.UUID, int] = {}
    commits: list[tuple[float, int]] = []
    try:
        started = time.perf_counter()
        for n in range(int(per_second * seconds)):
            time.sleep(max(0.0, started + n / per_second - time.perf_counter()))
            test_id = ids[n % len(ids)]
            expected = versions.get(test_id, 2)  # created, then published
            save = SaveTestDocument(test_id, expected, document(n % len(ids), revision=n + 1))
            outcome = executor.execute(save, metadata=METADATA)
            assert outcome.position is not None  # a save records an event
            commits.append((time.perf_counter(), outcome.position))
            versions[test_id] = outcome.result.version
        wait_caught_up(dsn, timeout=60)
    finally:
        listener.close()
    lags = Lags(saves=len(commits))
    for name in CONSUMERS:
        found = [listener.first_reached(name, position) for _, position in commits]
        lags.by_consumer[name] = [
            max(0.0, seen - committed)
            for (committed, _), seen in zip(commits, found, strict=True)
            if seen is not None
        ]
    return lags
