"""The ``test_catalog`` read model on real PostgreSQL, driven through the real commands: drafts,
saves, images, publication, cursor pages, tags, removal, a rebuild, and text kept intact."""

from collections.abc import Iterator
from uuid import UUID, uuid4

import psycopg
import pytest

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
from eventstore.database import read_pool
from projections.catalog import catalog_position, get_public_test, get_test, list_tests
from projections.readmodels.testcatalog import TestCatalogProjection
from projections.readmodels.teststats import TestStatsProjection
from projections.registry import consumer_kinds
from projections.runner import ProjectionRunner
from projections.watcher import LogWatcher
from tests.integration.folds import all_events
from tests.integration.test_projections import head
from tests.unit.documents import answers_for, document

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


@pytest.fixture
def site(app, executor, clean_dsn) -> Iterator[Site]:
    running = Site(clean_dsn, app, executor).start()
    yield running
    running.stop()


@pytest.fixture
def pool(clean_dsn):
    with read_pool(clean_dsn, size=2, wait_seconds=5) as reads:
        yield reads


def ids(rows):
    return [row["test_id"] for row in rows]


def public(pool, tag=None, after=None, limit=100):
    return ids(list_tests(pool, public=True, tag=tag, after=after, limit=limit))


def admin(pool):
    return ids(list_tests(pool, public=False, tag=None, after=None, limit=100))


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


def test_published_tests_are_listed_newest_first(site, pool):
    first, draft, second = site.create(), site.create(), site.create()
    site.run(PublishTestDocument(second))
    site.run(PublishTestDocument(first))
    assert public(pool) == [first, second]

    site.run(SaveTestDocument(second, 2, document(title="Edited")))

    assert public(pool) == [second, first]
    assert draft not in public(pool) and get_public_test(pool, second)["title"] == "Edited"


def test_published_at_stays_the_time_of_the_first_publication(site, pool):
    test_id = site.create(publish=True)
    first = get_test(pool, test_id)["published_at"]
    site.run(UnpublishTestDocument(test_id))
    site.run(PublishTestDocument(test_id))

    row = get_test(pool, test_id)

    assert first is not None and row["published_at"] == first < row["updated_at"]


def test_cursor_pages_list_every_published_test_once(site, pool):
    published = {site.create(publish=True, wait=False) for _ in range(23)}
    site.create(wait=False)  # a draft, never listed
    site.wait()
    seen, after = [], None

    for _ in range(10):  # 5 pages hold them all: a cursor that stalls fails, never hangs
        page = list_tests(pool, public=True, tag=None, after=after, limit=5)
        if not page:
            break
        assert len(page) <= 5
        seen += page
        after = page[-1]["position"]

    assert len(seen) == 23 and set(ids(seen)) == published
    positions = [row["position"] for row in seen]
    assert positions == sorted(positions, reverse=True) and len(set(positions)) == 23


def test_the_tag_filter_matches_a_whole_tag_in_any_case(site, pool):
    travel = site.create(publish=True, tags=["Travel", "여행"])
    shouted = site.create(publish=True, tags=["ＴＲＡＶＥＬ"])  # full-width letters
    site.create(publish=True, tags=["travel guide", "travels"])

    assert set(public(pool, tag="travel")) == {travel, shouted}
    assert set(public(pool, tag="  TRAVEL ")) == {travel, shouted}
    assert public(pool, tag="여행") == [travel]
    assert public(pool, tag="trav") == [] and public(pool, tag="행") == []


def test_an_unpublished_test_leaves_the_public_reads_only(site, pool):
    test_id = site.create(publish=True)

    site.run(UnpublishTestDocument(test_id))

    assert get_public_test(pool, test_id) is None and public(pool) == []
    assert admin(pool) == [test_id] and get_test(pool, test_id)["published"] is False


def test_a_deleted_test_leaves_the_public_and_the_admin_lists(site, pool):
    test_id = site.create(publish=True)

    site.run(DeleteTestDocument(test_id))

    assert get_public_test(pool, test_id) is None
    assert public(pool) == [] and admin(pool) == []
    assert get_test(pool, test_id)["deleted"] is True  # the row stays, for the history


def test_korean_text_and_emoji_are_stored_intact(site, pool):
    title = "여행 성향 테스트 🧳✈️"
    description = "어디로 떠날까요? 👩‍💻 🏳️‍🌈 — 가나다 e\u0301"
    test_id = site.create(publish=True, title=title, description=description, tags=["여행🌏"])

    row = get_public_test(pool, test_id)

    assert (row["title"], row["description"], row["tags"]) == (title, description, ["여행🌏"])
    assert row["document"] == site.app.repository.get(test_id).document
    assert list_tests(pool, public=True, tag="여행🌏", after=None, limit=1)[0]["title"] == title


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
