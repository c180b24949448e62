"""Use cases on TestDocument (admins) and TestTake (the public's computes).

An admin command given ``expected_version`` (the editor's ``If-Match``) fails at once with
VersionConflict when the test is at another version; its details name the current version,
who made it (``saved_by``, the actor of its event) and when (``saved_at``, ISO 8601)
(``TestDocument.stale``). A deleted test is NotFound to every command, a stale version
included. Each returns a ``TestState``; a take returns a ``Take``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID, uuid4

from domain.base import Aggregates
from domain.errors import NotFound, UnsupportedImage
from domain.images import accepted, image_key, sniff
from domain.mbti import compute
from domain.testcontent import DocumentLimits, check_image
from domain.testdocument import TestDocument
from domain.testtake import TestTake


@dataclass(frozen=True)
class TestState:
    """A test as a command left it: what the caller is answered from."""

    __test__ = False  # not a test class, whatever pytest thinks of the name
    test_id: UUID
    version: int
    published: bool
    deleted: bool

    @classmethod
    def of(cls, test: TestDocument) -> TestState:
        return cls(test.id, test.version, test.published, test.deleted)


@dataclass(frozen=True)
class AttachedImage:
    """A test after an image was attached: its version, and the image's place and key."""

    test_id: UUID
    version: int
    target: str
    key: str


@dataclass(frozen=True)
class Take:
    """One compute: the test and version scored, the type, each axis' sums, and its result."""

    take_id: UUID
    test_id: UUID
    version: int
    mbti: str
    scores: dict[str, dict[str, int]]
    result: dict[str, Any]


class ImageStore(Protocol):
    """Where an image's bytes go, under their content-hash key, before it is attached."""

    def exists(self, key: str) -> bool: ...

    def put(self, key: str, data: bytes, content_type: str) -> None: ...


@dataclass(frozen=True)
class CreateTestDocument:
    """Create an unpublished test holding ``document``."""

    test_id: UUID
    document: Mapping[str, Any]
    limits: DocumentLimits = DocumentLimits()

    def __call__(self, aggregates: Aggregates) -> TestState:
        test = TestDocument.create(self.test_id, self.document, self.limits)
        aggregates.add(test)
        return TestState.of(test)


@dataclass(frozen=True)
class SaveTestDocument:
    """Replace the whole document at ``expected_version`` (None: any); no change, no event."""

    test_id: UUID
    expected_version: int | None
    document: Mapping[str, Any]
    limits: DocumentLimits = DocumentLimits()

    def __call__(self, aggregates: Aggregates) -> TestState:
        test = existing_test(aggregates, self.test_id, self.expected_version)
        test.save(self.document, self.limits)
        return TestState.of(test)


@dataclass(frozen=True)
class AttachImage:
    """Put an image (its content-hash key) at ``target``: the thumbnail, a question's, a result's.

    ``target`` comes from ``domain.testcontent.image_target``. The same key again records nothing.
    """

    test_id: UUID
    target: str
    key: str
    expected_version: int | None = None

    def __call__(self, aggregates: Aggregates) -> AttachedImage:
        test = existing_test(aggregates, self.test_id, self.expected_version)
        test.attach_image(self.target, self.key)
        return AttachedImage(test.id, test.version, self.target, self.key)


@dataclass(frozen=True)
class UploadImage:
    """Store an image's bytes under their content hash, then attach it at ``target``.

    Nothing is stored for a test that does not exist, nor for an image place it does not have;
    the same bytes stored before store nothing new and, at the same place, record nothing.
    """

    test_id: UUID
    target: str
    data: bytes = field(repr=False)
    images: ImageStore
    expected_version: int | None = None

    def prepare(self, saved: Aggregates) -> AttachImage:
        """The bytes told from themselves (never a name or Content-Type), checked and stored."""
        test = saved.find(TestDocument, self.test_id)
        if test is None or test.deleted:
            raise NotFound(f"test {self.test_id} not found")
        kind = sniff(self.data)
        if kind is None:
            raise UnsupportedImage(
                f"the upload is not an image of an accepted type ({accepted()}); the type is "
                "told from the bytes, not from the file name or Content-Type"
            )
        key = image_key(self.data, kind.extension)
        check_image(test.document, self.target, key)  # the place must exist before storing
        if not self.images.exists(key):
            self.images.put(key, self.data, kind.content_type)
        return AttachImage(self.test_id, self.target, key, self.expected_version)


class _Transition:
    """A command that moves an existing test from one state to another (again: no event)."""

    test_id: UUID
    expected_version: int | None

    def __call__(self, aggregates: Aggregates) -> TestState:
        test = existing_test(aggregates, self.test_id, self.expected_version)
        self.move(test)
        return TestState.of(test)

    def move(self, test: TestDocument) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class PublishTestDocument(_Transition):
    """Show the test on the public site (again: nothing recorded)."""

    test_id: UUID
    expected_version: int | None = None

    def move(self, test: TestDocument) -> None:
        test.publish()


@dataclass(frozen=True)
class UnpublishTestDocument(_Transition):
    """Take the test off the public site (again: nothing recorded)."""

    test_id: UUID
    expected_version: int | None = None

    def move(self, test: TestDocument) -> None:
        test.unpublish()


@dataclass(frozen=True)
class DeleteTestDocument(_Transition):
    """Delete the test (soft: its history stays; everything after is NotFound)."""

    test_id: UUID
    expected_version: int | None = None

    def move(self, test: TestDocument) -> None:
        test.delete()


@dataclass(frozen=True)
class TakeTest:
    """Compute a published test's result for ``answers`` and record the take anonymously."""

    test_id: UUID
    answers: Mapping[int, int]
    take_id: UUID = field(default_factory=uuid4)

    def __call__(self, aggregates: Aggregates) -> Take:
        test = aggregates.get(TestDocument, self.test_id)
        test.require_published()
        computed = compute(test.document, self.answers)
        take = TestTake.record(self.take_id, test.id, test.version, computed.mbti)
        aggregates.add(take)
        return Take(take.id, test.id, test.version, computed.mbti, computed.scores, computed.result)


def existing_test(
    aggregates: Aggregates, test_id: UUID, expected_version: int | None
) -> TestDocument:
    """The test, not deleted, at ``expected_version`` if given; else NotFound / VersionConflict."""
    test = aggregates.get(TestDocument, test_id, expected_version=expected_version)
    test.require_exists()
    return test
