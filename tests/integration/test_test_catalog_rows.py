"""The ``test_catalog`` read model on real PostgreSQL, driven through the real commands: a
test's row after a draft, saves and images, text kept intact, events applied again, and
the rows equal to a fold of the log and to a rebuild."""

from uuid import uuid4

import psycopg

from adapters.search.text import tag_key
from domain.commands.testdocument import (
    AttachImage,
    CreateTestDocument,
    DeleteTestDocument,
    PublishTestDocument,
    SaveTestDocument,
    TakeTest,
    UnpublishTestDocument,
)
from domain.testcontent import image_target
from domain.testdocument import TestDocument
from projections.registry import consumer_kinds
from projections.testcatalog.projection import TestCatalogProjection
from projections.testcatalog.queries import (
    catalog_position,
    get_public_test,
    get_test,
    list_public_tests,
)
from tests.integration.folds import all_events
from tests.integration.testcatalog import (
    ADMIN,
    NAMES,
    PICTURE,
    THUMBNAIL,
    admin,
    pool_fixture,  # noqa: F401  (a fixture)
    public,
    site_fixture,  # noqa: F401  (a fixture)
)
from tests.unit.documents import answers_for, document


def test_the_registry_runs_the_catalog_and_the_stats_as_projections():
    kinds = consumer_kinds()

    assert (kinds["test_catalog"], kinds["test_stats"]) == ("projection", "projection")


def test_a_created_test_is_a_draft_that_only_admins_list(site, pool):
    test_id = uuid4()
    position = site.run(CreateTestDocument(test_id, document(title="Draft")))

    row = get_test(pool, test_id)

    assert (row["title"], row["version"], row["position"]) == ("Draft", 1, position)
    assert (row["published"], row["deleted"], row["published_at"]) == (False, False, None)
    assert row["saved_by"] == ADMIN and row["created_at"] == row["updated_at"]
    assert get_public_test(pool, test_id) is None
    assert public(pool) == [] and admin(pool) == [test_id]
    assert catalog_position(pool) == position


def test_a_save_replaces_the_title_and_moves_version_and_position(site, pool):
    test_id = site.create(title="Before")
    created = get_test(pool, test_id)

    position = site.run(SaveTestDocument(test_id, 1, document(title="After")), actor="bob")

    row = get_test(pool, test_id)
    assert (row["title"], row["document"]["title"]) == ("After", "After")
    assert (row["version"], row["position"], row["saved_by"]) == (2, position, "bob")
    assert position > created["position"] and row["created_at"] == created["created_at"]


def test_attached_images_update_the_document_and_the_thumbnail(site, pool):
    test_id = site.create()
    site.run(AttachImage(test_id, image_target(), THUMBNAIL))
    site.run(AttachImage(test_id, image_target(question=2), PICTURE))
    site.run(AttachImage(test_id, image_target(mbti="INTJ"), PICTURE))

    row = get_test(pool, test_id)

    assert row["thumbnail"] == row["document"]["thumbnail"] == THUMBNAIL
    assert row["document"]["questions"][2]["image"] == PICTURE
    assert row["document"]["results"]["INTJ"]["image"] == PICTURE
    assert row["document"]["questions"][1]["image"] is None and row["version"] == 4


def test_korean_text_and_emoji_are_stored_intact(site, pool):
    title = "여행 성향 테스트 🧳✈️"
    description = "어디로 떠날까요? 👩‍💻 🏳️‍🌈 — 가나다 e\u0301"
    test_id = site.create(publish=True, title=title, description=description, tags=["여행🌏"])

    row = get_public_test(pool, test_id)

    assert (row["title"], row["description"], row["tags"]) == (title, description, ["여행🌏"])
    assert row["document"] == site.app.repository.get(test_id).document
    assert list_public_tests(pool, tag="여행🌏", after=None, limit=1)[0]["title"] == title


def test_an_event_applied_again_never_moves_a_test_back(site, pool, clean_dsn):
    test_id = site.create(title="First")
    site.run(SaveTestDocument(test_id, 1, document(title="Second")))
    site.run(AttachImage(test_id, image_target(), THUMBNAIL))
    site.run(PublishTestDocument(test_id))
    before = get_test(pool, test_id)

    with psycopg.connect(clean_dsn) as conn, conn.transaction(), conn.cursor() as cur:
        for position, event in all_events(site.app)[:-1]:  # all but the publication, again
            TestCatalogProjection().project(cur, position, event)

    assert get_test(pool, test_id) == before


def test_the_catalog_equals_the_fold_and_a_rebuild_from_position_zero(site, pool, clean_dsn):
    test_ids = make_history(site)
    site.wait()
    built = catalog(clean_dsn)
    assert built == folded(site.app, test_ids)

    site.stop()
    with psycopg.connect(clean_dsn) as conn:
        conn.execute("DELETE FROM projection_position WHERE name = ANY(%s)", (NAMES,))
        conn.execute("TRUNCATE test_catalog, test_stats")
    site.start().wait()

    assert catalog(clean_dsn) == built


def make_history(site):
    """Tests in every state, edited by two admins, with takes between their events."""
    kept, hidden, gone, draft = (site.create(wait=False) for _ in range(4))
    for test_id in (kept, hidden, gone):
        site.run(PublishTestDocument(test_id), wait=False)
    site.run(SaveTestDocument(kept, 2, document(title="Kept", tags=["A", "b"])), wait=False)
    site.run(TakeTest(kept, answers_for("ENFP")), wait=False)
    site.run(AttachImage(kept, image_target(), THUMBNAIL), actor="bob", wait=False)
    site.run(UnpublishTestDocument(hidden), wait=False)
    site.run(DeleteTestDocument(gone), actor="bob", wait=False)
    site.run(SaveTestDocument(draft, 1, document(title="Still a draft")), wait=False)
    return [kept, hidden, gone, draft]


def catalog(dsn):
    with psycopg.connect(dsn, row_factory=psycopg.rows.dict_row) as conn:
        return {row["test_id"]: row for row in conn.execute("SELECT * FROM test_catalog")}


def folded(app, test_ids):
    """test_id -> the catalog row that the aggregates and their events imply."""
    last, first, published_at = {}, {}, {}
    for position, event in all_events(app):
        if isinstance(event, TestDocument.Event):
            last[event.originator_id] = position
            first.setdefault(event.originator_id, event.timestamp)
            if isinstance(event, TestDocument.Published):
                published_at.setdefault(event.originator_id, event.timestamp)
    rows = {}
    for test_id in test_ids:
        test = app.repository.get(test_id)
        rows[test_id] = {
            "test_id": test_id,
            "version": test.version,
            "position": last[test_id],
            "title": test.document["title"],
            "description": test.document["description"],
            "tags": test.document["tags"],
            "tag_keys": [tag_key(tag) for tag in test.document["tags"]],
            "thumbnail": test.document["thumbnail"],
            "document": test.document,
            "published": test.published,
            "deleted": test.deleted,
            "created_at": first[test_id],
            "updated_at": test.last_saved_at,
            "saved_by": test.last_saved_by,
            "published_at": published_at.get(test_id),
        }
    return rows
