"""TestDocument: a personality test as admins edit it, saved whole and serialised by version.

It replaces the test site's ``TestEditor`` Durable Object. The document is plain JSON data
(``domain.testcontent`` checks and normalises it), so that events never depend on the API's
schemas. Every event makes a new version and records who made it and when (``last_saved_by``,
``last_saved_at``): a save against a stale version is told both. Images are attached by
content-hash key; a deleted test stays in the history and refuses everything after.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.base import Aggregate
from domain.errors import ChronicleError, NotFound, VersionConflict
from domain.testcontent import (
    DocumentLimits,
    check_document,
    check_image,
    image_of,
    with_image,
)


class TestDocument(Aggregate):
    """A personality test: its document, published or not, and who saved it last."""

    __test__ = False  # not a test class, whatever pytest thinks of the name
    snapshot_interval = 20  # each save carries the whole document: keep replays short

    class Created(Aggregate.Created):
        document: dict[str, Any]

        def apply(self, test: TestDocument) -> None:
            test.document = self.document
            _stamp(test, self)

    class Saved(Aggregate.Event):
        document: dict[str, Any]

        def apply(self, test: TestDocument) -> None:
            test.document = self.document
            _stamp(test, self)

    class ImageAttached(Aggregate.Event):
        target: str
        key: str

        def apply(self, test: TestDocument) -> None:
            test.document = with_image(test.document, self.target, self.key)
            _stamp(test, self)

    class Published(Aggregate.Event):
        def apply(self, test: TestDocument) -> None:
            test.published = True
            _stamp(test, self)

    class Unpublished(Aggregate.Event):
        def apply(self, test: TestDocument) -> None:
            test.published = False
            _stamp(test, self)

    class Deleted(Aggregate.Event):
        def apply(self, test: TestDocument) -> None:
            test.deleted = True
            _stamp(test, self)

    def __init__(self) -> None:
        self.document: dict[str, Any] = {}
        self.published = False
        self.deleted = False
        self.last_saved_by = ""
        self.last_saved_at: datetime | None = None

    @classmethod
    def create(
        cls, test_id: UUID, document: Any, limits: DocumentLimits | None = None
    ) -> TestDocument:
        """A new, unpublished test holding ``document`` (checked against ``limits``)."""
        checked = check_document(document, limits or DocumentLimits())
        return cls._create(cls.Created, id=test_id, document=checked)

    def save(self, document: Any, limits: DocumentLimits | None = None) -> None:
        """Replace the whole document; one equal to the current one records nothing."""
        self.require_exists()
        checked = check_document(document, limits or DocumentLimits())
        if checked != self.document:
            self.trigger_event(self.Saved, document=checked)

    def attach_image(self, target: str, key: str) -> None:
        """Put the image ``key`` at ``target``; the key already there records nothing.

        ``target`` is the image's field path: ``thumbnail``, ``questions[i].image`` or
        ``results.<MBTI>.image`` (see ``domain.testcontent.image_target``).
        """
        self.require_exists()
        check_image(self.document, target, key)
        if image_of(self.document, target) != key:
            self.trigger_event(self.ImageAttached, target=target, key=key)

    def publish(self) -> None:
        """Show the test on the public site; publishing it again records nothing."""
        self.require_exists()
        if not self.published:
            self.trigger_event(self.Published)

    def unpublish(self) -> None:
        """Take the test off the public site; unpublishing it again records nothing."""
        self.require_exists()
        if self.published:
            self.trigger_event(self.Unpublished)

    def delete(self) -> None:
        """Delete the test for good: its history stays, every later command is NotFound."""
        self.require_exists()
        self.trigger_event(self.Deleted)

    def stale(self, expected_version: int) -> ChronicleError:
        """A stale version names who saved the current one and when; a deleted test is gone."""
        if self.deleted:
            return NotFound(f"TestDocument {self.id} not found")
        conflict = super().stale(expected_version)
        saved_at = self.last_saved_at.isoformat() if self.last_saved_at else None
        return VersionConflict(
            f"{conflict.message}; saved by {self.last_saved_by} at {saved_at}",
            current_version=self.version,
            saved_by=self.last_saved_by,
            saved_at=saved_at,
        )

    def require_exists(self) -> None:
        """NotFound when the test was deleted."""
        if self.deleted:
            raise NotFound(f"TestDocument {self.id} not found")

    def require_published(self) -> None:
        """NotFound unless the public can see the test (published and not deleted)."""
        self.require_exists()
        if not self.published:
            raise NotFound(f"TestDocument {self.id} not found")


def _stamp(test: TestDocument, event: Aggregate.Event) -> None:
    # Every event makes a version: a stale save's conflict names who made the current one.
    test.last_saved_by = event.metadata.get("actor", "")
    test.last_saved_at = event.timestamp
