"""Use cases on TestDocument (admins) and TestTake (the public's computes).

An admin command given ``expected_version`` (the editor's ``If-Match``) fails at once with
VersionConflict when the test is at another version; its details name the current version,
who made it (``saved_by``, the actor of its event) and when (``saved_at``, ISO 8601). A
deleted test is NotFound to every command, a stale version included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from domain.base import Aggregates
from domain.errors import NotFound, VersionConflict
from domain.mbti import Computed, compute
from domain.testcontent import DocumentLimits
from domain.testdocument import TestDocument
from domain.testtake import TestTake


@dataclass(frozen=True)
class CreateTestDocument:
    """Create an unpublished test holding ``document``."""

    test_id: UUID
    document: Mapping[str, Any]
    limits: DocumentLimits = DocumentLimits()

    def __call__(self, aggregates: Aggregates) -> TestDocument:
        test = TestDocument.create(self.test_id, self.document, self.limits)
        aggregates.add(test)
        return test


@dataclass(frozen=True)
class SaveTestDocument:
    """Replace the whole document of the test at ``expected_version``; no change, no event."""

    test_id: UUID
    expected_version: int
    document: Mapping[str, Any]
    limits: DocumentLimits = DocumentLimits()

    def __call__(self, aggregates: Aggregates) -> TestDocument:
        test = existing_test(aggregates, self.test_id, self.expected_version)
        test.save(self.document, self.limits)
        return test


@dataclass(frozen=True)
class AttachImage:
    """Put an image (its content-hash key) at ``target``: the thumbnail, a question's, a result's.

    ``target`` comes from ``domain.testcontent.image_target``. The same key again records nothing.
    """

    test_id: UUID
    target: str
    key: str
    expected_version: int | None = None

    def __call__(self, aggregates: Aggregates) -> TestDocument:
        test = existing_test(aggregates, self.test_id, self.expected_version)
        test.attach_image(self.target, self.key)
        return test


@dataclass(frozen=True)
class PublishTestDocument:
    """Show the test on the public site (again: nothing recorded)."""

    test_id: UUID
    expected_version: int | None = None

    def __call__(self, aggregates: Aggregates) -> TestDocument:
        test = existing_test(aggregates, self.test_id, self.expected_version)
        test.publish()
        return test


@dataclass(frozen=True)
class UnpublishTestDocument:
    """Take the test off the public site (again: nothing recorded)."""

    test_id: UUID
    expected_version: int | None = None

    def __call__(self, aggregates: Aggregates) -> TestDocument:
        test = existing_test(aggregates, self.test_id, self.expected_version)
        test.unpublish()
        return test


@dataclass(frozen=True)
class DeleteTestDocument:
    """Delete the test (soft: its history stays; everything after is NotFound)."""

    test_id: UUID
    expected_version: int | None = None

    def __call__(self, aggregates: Aggregates) -> TestDocument:
        test = existing_test(aggregates, self.test_id, self.expected_version)
        test.delete()
        return test


@dataclass(frozen=True)
class TakenTest:
    """What a take gives back: the recorded take (test id and version) and the computation."""

    take: TestTake
    computed: Computed


@dataclass(frozen=True)
class TakeTest:
    """Compute a published test's result for ``answers`` and record the take anonymously."""

    test_id: UUID
    answers: Mapping[int, int]
    take_id: UUID = field(default_factory=uuid4)

    def __call__(self, aggregates: Aggregates) -> TakenTest:
        test = aggregates.get(TestDocument, self.test_id)
        test.require_published()
        computed = compute(test.document, self.answers)
        take = TestTake.record(self.take_id, test.id, test.version, computed.mbti)
        aggregates.add(take)
        return TakenTest(take, computed)


def existing_test(
    aggregates: Aggregates, test_id: UUID, expected_version: int | None
) -> TestDocument:
    """The test, not deleted, at ``expected_version`` if given; else NotFound / VersionConflict."""
    try:
        test = aggregates.get(TestDocument, test_id, expected_version=expected_version)
    except VersionConflict as conflict:
        current = aggregates.find(TestDocument, test_id)
        if current is None or current.deleted:
            raise NotFound(f"TestDocument {test_id} not found") from None
        saved_at = current.last_saved_at.isoformat() if current.last_saved_at else None
        raise VersionConflict(
            f"{conflict.message}; saved by {current.last_saved_by} at {saved_at}",
            current_version=current.version,
            saved_by=current.last_saved_by,
            saved_at=saved_at,
        ) from conflict
    test.require_exists()
    return test
