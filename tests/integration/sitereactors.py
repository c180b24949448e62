"""Helpers for the test site's reactors on real PostgreSQL: admin commands, the runners, waits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from domain.commands import testdocument as tests
from eventstore.executor import CommandExecutor
from projections.engine.reactors import Reactor, ReactorRunner
from projections.engine.runner import ProjectionRunner
from projections.engine.watcher import LogWatcher
from projections.testcatalog.projection import TestCatalogProjection
from tests.unit.documents import document

ATTEMPTS = 3
ADMIN = {"actor": "admin:kim", "correlation_id": "c1", "causation_id": "request:c1"}


class Site:
    """The ``test_catalog`` projection and some reactors (built on its watcher), running."""

    def __init__(
        self,
        dsn: str,
        app: Any,
        reactors: Callable[[LogWatcher], list[Reactor]],
        *,
        catalog: bool = True,
    ) -> None:
        self.dsn, self._app = dsn, app
        self.watcher = LogWatcher(dsn).start()
        self.reactors = ReactorRunner(
            dsn,
            app,
            reactors(self.watcher),
            self.watcher,
            poll_seconds=0.1,
            max_attempts=ATTEMPTS,
            retry_seconds=0.01,
            retry_max_seconds=0.02,
        ).start()
        self.catalog: ProjectionRunner | None = None
        if catalog:
            self.start_catalog()

    def start_catalog(self) -> None:
        """Run the ``test_catalog`` projection (at start unless told not to)."""
        runner = ProjectionRunner(
            self.dsn, self._app, [TestCatalogProjection()], self.watcher, poll_seconds=0.1
        )
        self.catalog = runner.start()

    def wait(self, names: list[str], position: int) -> None:
        """Fail unless every consumer in ``names`` reaches ``position`` soon."""
        assert self.watcher.wait_for_position(names, position, timeout=30), (names, position)

    def stop(self) -> None:
        self.reactors.stop()
        if self.catalog is not None:
            self.catalog.stop()
        self.watcher.stop()


def position_of(outcome: Any) -> int:
    assert outcome.position is not None, "the command recorded no event"
    return int(outcome.position)


def create(
    executor: CommandExecutor, test_id: UUID | None = None, **fields: Any
) -> tuple[UUID, int]:
    """A new unpublished test holding ``document(**fields)``: its id and log position.

    Without tags unless given: only the title says what a search should find.
    """
    test_id = test_id or uuid4()
    command = tests.CreateTestDocument(test_id, document(**{"tags": [], **fields}))
    outcome = executor.execute(command, metadata=ADMIN)
    return test_id, position_of(outcome)


def published(
    executor: CommandExecutor, test_id: UUID | None = None, **fields: Any
) -> tuple[UUID, int]:
    """A new published test (at version 2): its id and the position of its publication."""
    test_id, _ = create(executor, test_id, **fields)
    return test_id, publish(executor, test_id)


def publish(executor: CommandExecutor, test_id: UUID) -> int:
    return position_of(executor.execute(tests.PublishTestDocument(test_id), metadata=ADMIN))


def unpublish(executor: CommandExecutor, test_id: UUID) -> int:
    return position_of(executor.execute(tests.UnpublishTestDocument(test_id), metadata=ADMIN))


def delete(executor: CommandExecutor, test_id: UUID) -> int:
    return position_of(executor.execute(tests.DeleteTestDocument(test_id), metadata=ADMIN))


def save(executor: CommandExecutor, test_id: UUID, version: int, **fields: Any) -> int:
    """Save ``document(**fields)`` over the test at ``version``; the log position."""
    command = tests.SaveTestDocument(test_id, version, document(**{"tags": [], **fields}))
    return position_of(executor.execute(command, metadata=ADMIN))


def events_of(app: Any, test_id: UUID) -> list[tuple[Any, int]]:
    """Every stored event of the test with its log position, in order."""
    found = []
    for notification in app.recorder.select_notifications(start=1, limit=10_000):
        if notification.originator_id == test_id:
            found.append((app.mapper.to_domain_event(notification), notification.id))
    return found
