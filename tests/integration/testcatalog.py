"""The test site for the ``test_catalog`` tests: its commands on a real executor with its
projections following the log, a read pool, and the public and admin lists' ids."""

from collections.abc import Iterator
from uuid import UUID, uuid4

import pytest

from domain.commands.testdocument import CreateTestDocument, PublishTestDocument
from eventstore.database import read_pool
from projections.engine.runner import ProjectionRunner
from projections.engine.watcher import LogWatcher
from projections.testcatalog.projection import TestCatalogProjection
from projections.testcatalog.queries import list_public_tests, list_tests
from projections.teststats.projection import TestStatsProjection
from tests.integration.test_projections import head
from tests.unit.documents import document

NAMES = ["test_catalog", "test_stats"]
ADMIN = "ada@example.com"
THUMBNAIL = "images/" + "ab" * 32 + ".png"
PICTURE = "images/" + "cd" * 32 + ".webp"


class Site:
    """The test site's commands on a real executor, with its projections following the log."""

    def __init__(self, dsn, app, executor):
        self.dsn, self.app, self.executor = dsn, app, executor
        self._running = None

    def start(self, *projections):
        watcher = LogWatcher(self.dsn).start()
        chosen = list(projections) or [TestCatalogProjection(), TestStatsProjection()]
        runner = ProjectionRunner(self.dsn, self.app, chosen, watcher, poll_seconds=0.1).start()
        self._running = (runner, watcher)
        return self

    def stop(self):
        if self._running:
            runner, watcher = self._running
            runner.stop()
            watcher.stop()
            self._running = None

    def run(self, command, *, actor=ADMIN, wait=True):
        """Run ``command``; its log position (once projected, unless ``wait`` is false)."""
        metadata = {"actor": actor, "correlation_id": "", "causation_id": ""}
        position = self.executor.execute(command, metadata=metadata).position
        assert position is not None, "the command recorded nothing"
        if wait:
            self.wait(position)
        return position

    def wait(self, position=None):
        """Until both projections reached ``position`` (the log's head if not given)."""
        target = head(self.dsn) if position is None else position
        assert self._running[1].wait_for_position(NAMES, target, timeout=30)

    def create(self, *, publish=False, wait=True, **fields) -> UUID:
        test_id = uuid4()
        self.run(CreateTestDocument(test_id, document(**fields)), wait=wait and not publish)
        if publish:
            self.run(PublishTestDocument(test_id), wait=wait)
        return test_id


@pytest.fixture(name="site")
def site_fixture(app, executor, clean_dsn) -> Iterator[Site]:
    running = Site(clean_dsn, app, executor).start()
    yield running
    running.stop()


@pytest.fixture(name="pool")
def pool_fixture(clean_dsn):
    with read_pool(clean_dsn, size=2, wait_seconds=5) as reads:
        yield reads


def ids(rows):
    return [row["test_id"] for row in rows]


def public(pool, tag=None, after=None, limit=100):
    return ids(list_public_tests(pool, tag=tag, after=after, limit=limit))


def admin(pool):
    return ids(list_tests(pool, tag=None, after=None, limit=100))
