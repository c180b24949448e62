"""``test_catalog``: every test's document, flags and list columns, as the site reads them.

Exactly once comes from the runner (writes and position in one transaction); each statement
is still guarded by ``version`` (a row only moves forward), so that applying an event again
changes nothing rather than rolling a test back.
"""

from collections.abc import Mapping
from typing import Any

from psycopg import Cursor
from psycopg.types.json import Jsonb

from adapters.search.text import tag_key
from domain.testcontent import with_image
from domain.testdocument import TestDocument

# Time, actor, version and log position of the last event: what every event sets.
STAMP = """version = %(version)s, position = %(position)s, updated_at = %(at)s,
    saved_by = %(actor)s"""
GUARD = "WHERE test_id = %(test_id)s AND version < %(version)s"
INSERT = """
    INSERT INTO test_catalog (test_id, version, position, title, description, tags, tag_keys,
        thumbnail, document, published, deleted, created_at, updated_at, saved_by)
    VALUES (%(test_id)s, %(version)s, %(position)s, %(title)s, %(description)s, %(tags)s,
        %(tag_keys)s, %(thumbnail)s, %(document)s, false, false, %(at)s, %(at)s, %(actor)s)
    ON CONFLICT (test_id) DO NOTHING
"""
REPLACE = f"""
    UPDATE test_catalog SET title = %(title)s, description = %(description)s, tags = %(tags)s,
        tag_keys = %(tag_keys)s, thumbnail = %(thumbnail)s, document = %(document)s, {STAMP}
    {GUARD}
"""
PUBLISH = f"""
    UPDATE test_catalog SET published = true, published_at = coalesce(published_at, %(at)s),
        {STAMP}
    {GUARD}
"""
UNPUBLISH = f"UPDATE test_catalog SET published = false, {STAMP} {GUARD}"
DELETE = f"UPDATE test_catalog SET deleted = true, {STAMP} {GUARD}"
# The document before an image is attached: only while the row is behind the event.
DOCUMENT = "SELECT document FROM test_catalog " + GUARD


class TestCatalogProjection:
    """Keeps ``test_catalog`` equal to the fold of the TestDocument events."""

    __test__ = False  # not a test class, whatever pytest thinks of the name
    name = "test_catalog"
    tables = ("test_catalog",)  # what a rebuild recreates
    handles = (TestDocument.Event,)  # the events it applies; the others are not even decoded

    def project(self, cur: Cursor[Any], position: int, event: Any) -> None:
        if not isinstance(event, TestDocument.Event):
            return
        stamp = {
            "test_id": event.originator_id,
            "version": event.originator_version,
            "position": position,
            "at": event.timestamp,
            "actor": event.metadata.get("actor", ""),
        }
        if isinstance(event, TestDocument.Created):
            cur.execute(INSERT, {**stamp, **_columns(event.document)})
        elif isinstance(event, TestDocument.Saved):
            cur.execute(REPLACE, {**stamp, **_columns(event.document)})
        elif isinstance(event, TestDocument.ImageAttached):
            row = cur.execute(DOCUMENT, stamp).fetchone()
            if row is not None:  # else the row is already past this event
                document = with_image(row[0], event.target, event.key)
                cur.execute(REPLACE, {**stamp, **_columns(document)})
        elif isinstance(event, TestDocument.Published):
            cur.execute(PUBLISH, stamp)
        elif isinstance(event, TestDocument.Unpublished):
            cur.execute(UNPUBLISH, stamp)
        elif isinstance(event, TestDocument.Deleted):
            cur.execute(DELETE, stamp)


def _columns(document: Mapping[str, Any]) -> dict[str, Any]:
    """The columns copied out of a (checked) document, and the document itself."""
    tags = list(document["tags"])
    return {
        "title": document["title"],
        "description": document["description"],
        "tags": tags,
        "tag_keys": [tag_key(tag) for tag in tags],
        "thumbnail": document["thumbnail"],
        "document": Jsonb(document),
    }
