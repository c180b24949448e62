"""TestTake: one anonymous compute of a published test (test, version, type; nothing personal).

Each take is an aggregate of its own under a new id, so that takes never move the version of
the test's document, which admins save against (``If-Match``). Analysts and the ``test_stats``
read model count ``TestTake.Created`` events (the issue's "TestTaken").
"""

from __future__ import annotations

from uuid import UUID

from domain.base import Aggregate


class TestTake(Aggregate):
    """One recorded take of a test: which test, at which version, gave which MBTI type."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    class Created(Aggregate.Created):
        test_id: UUID
        test_version: int
        mbti: str

    def __init__(self, test_id: UUID, test_version: int, mbti: str) -> None:
        self.test_id = test_id
        self.test_version = test_version
        self.mbti = mbti

    @classmethod
    def record(cls, take_id: UUID, test_id: UUID, test_version: int, mbti: str) -> TestTake:
        """A take of ``test_id`` at ``test_version`` that computed ``mbti``."""
        return cls._create(
            cls.Created, id=take_id, test_id=test_id, test_version=test_version, mbti=mbti
        )
