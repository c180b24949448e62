"""``test_stats``: how many takes of each test gave each MBTI type (served to admins)."""

from typing import Any

from psycopg import Cursor

from domain.testtake import TestTake

# Not idempotent by itself: the runner commits it with the position, so each take counts once.
COUNT = """
    INSERT INTO test_stats (test_id, mbti, takes) VALUES (%s, %s, 1)
    ON CONFLICT (test_id, mbti) DO UPDATE SET takes = test_stats.takes + 1
"""


class TestStatsProjection:
    """Counts the TestTake events per test and type."""

    __test__ = False  # not a test class, whatever pytest thinks of the name
    name = "test_stats"
    tables = ("test_stats",)  # what a rebuild recreates
    handles = (TestTake.Created,)  # the events it applies; the others are not even decoded

    def project(self, cur: Cursor[Any], position: int, event: Any) -> None:
        if isinstance(event, TestTake.Created):
            cur.execute(COUNT, (event.test_id, event.mbti))
