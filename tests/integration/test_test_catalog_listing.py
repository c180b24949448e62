"""The ``test_catalog`` lists on real PostgreSQL, driven through the real commands:
publication order and time, cursor pages, tags, and tests unpublished or removed."""

from domain.commands.testdocument import (
    DeleteTestDocument,
    PublishTestDocument,
    SaveTestDocument,
    UnpublishTestDocument,
)
from projections.testcatalog.queries import get_public_test, get_test, list_tests
from tests.integration.testcatalog import (
    admin,
    ids,
    pool_fixture,  # noqa: F401  (a fixture)
    public,
    site_fixture,  # noqa: F401  (a fixture)
)
from tests.unit.documents import document


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
