"""The ``test_stats`` read model on real PostgreSQL: takes per test and type, each counted once,
across a crash in the middle of a batch and a restarted runner."""

from collections import Counter

import pytest

from domain.commands.testdocument import TakeTest
from domain.testtake import TestTake
from eventstore.database import read_pool
from projections.testcatalog.projection import TestCatalogProjection
from projections.testcatalog.queries import get_test
from projections.teststats.projection import TestStatsProjection
from projections.teststats.queries import get_test_stats
from tests.integration.testcatalog import Site
from tests.unit.documents import answers_for

TAKES = ["INTJ", "ENFP", "INTJ", "ISTP", "INTJ", "ENFP", "ESFJ", "INTJ", "ISTP", "ENFP"]


class CrashingOnce:
    """The stats projection, whose database session dies once, mid-batch, after ``after`` takes."""

    name = "test_stats"

    def __init__(self, after):
        self._stats = TestStatsProjection()
        self._after = after
        self.counted_before_the_crash = None
        self.deliveries = Counter()  # log position of each take -> times it was applied

    def project(self, cur, position, event):
        if isinstance(event, TestTake.Created):
            if self.counted_before_the_crash is None and len(self.deliveries) == self._after:
                row = cur.execute("SELECT coalesce(sum(takes), 0) FROM test_stats").fetchone()
                self.counted_before_the_crash = row[0]
                cur.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            self.deliveries[position] += 1
        self._stats.project(cur, position, event)


@pytest.fixture
def site(app, executor, clean_dsn):
    running = Site(clean_dsn, app, executor).start()
    yield running
    running.stop()


@pytest.fixture
def pool(clean_dsn):
    with read_pool(clean_dsn, size=2, wait_seconds=5) as reads:
        yield reads


def take_all(site, test_id, types, wait=True):
    for mbti in types:
        site.run(TakeTest(test_id, answers_for(mbti)), wait=False)
    if wait:
        site.wait()


def test_stats_count_the_takes_of_each_type_of_each_test(site, pool):
    taken, other, untaken = (site.create(publish=True) for _ in range(3))

    take_all(site, taken, TAKES)
    take_all(site, other, ["INFP", "INFP"])

    assert get_test_stats(pool, taken) == {"ENFP": 3, "ESFJ": 1, "INTJ": 4, "ISTP": 2}
    assert get_test_stats(pool, other) == {"INFP": 2}
    assert get_test_stats(pool, untaken) == {}


def test_takes_never_move_the_version_of_the_test_in_the_catalog(site, pool):
    test_id = site.create(publish=True)

    take_all(site, test_id, TAKES)

    assert get_test(pool, test_id)["version"] == 2  # created, published: takes are not saves


def test_a_batch_applied_again_after_a_crash_counts_each_take_once(site, pool):
    site.stop()
    test_id = site.create(publish=True, wait=False)
    take_all(site, test_id, TAKES, wait=False)  # all in the log before the runner: one batch
    crashing = CrashingOnce(after=6)

    site.start(TestCatalogProjection(), crashing).wait()

    assert crashing.counted_before_the_crash == 6  # the batch had written, then died
    assert sorted(Counter(crashing.deliveries.values()).items()) == [(1, 4), (2, 6)]
    assert get_test_stats(pool, test_id) == dict(Counter(TAKES))


def test_a_restarted_runner_counts_only_the_takes_after_its_position(site, pool):
    test_id = site.create(publish=True)
    take_all(site, test_id, TAKES[:4])
    site.stop()
    take_all(site, test_id, TAKES[4:], wait=False)

    site.start().wait()

    assert get_test_stats(pool, test_id) == dict(Counter(TAKES))
