"""The ``test_catalog`` lists on real PostgreSQL, driven through the real commands:
publication order and time, cursor pages, tags, and tests unpublished or removed."""

from domain.commands.testdocument import (
    DeleteTestDocument,
    PublishTestDocument,
    SaveTestDocument,
    UnpublishTestDocument,
)
from projections.testcatalog.queries import Place, get_public_test, get_test, list_public_tests
from tests.integration.testcatalog import (
    admin,
    ids,
    pool_fixture,  # noqa: F401  (a fixture)
    public,
    site_fixture,  # noqa: F401  (a fixture)
)
from tests.unit.documents import document


def test_published_tests_are_listed_newest_first_publication_first_and_stay_put_when_edited(
    site, pool
):
    first, draft, second = site.create(), site.create(), site.create()
    site.run(PublishTestDocument(second))
    site.run(PublishTestDocument(first))
    assert public(pool) == [first, second]

    site.run(SaveTestDocument(second, 2, document(title="Edited")))

    assert public(pool) == [first, second]
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
        page = list_public_tests(pool, tag=None, after=after, limit=5)
        if not page:
            break
        assert len(page) <= 5
        seen += page
        after = Place(page[-1]["published_at"], page[-1]["test_id"])

    assert len(seen) == 23 and set(ids(seen)) == published
    places = [(row["published_at"], row["test_id"]) for row in seen]
    assert places == sorted(places, reverse=True)


def test_a_walk_through_the_pages_while_admins_edit_sees_each_test_published_before_it_once(
    site, pool
):
    before = [site.create(publish=True) for _ in range(9)]
    versions = dict.fromkeys(before, 2)
    seen, after = [], None

    for step in range(10):
        page = list_public_tests(pool, tag=None, after=after, limit=2)
        if not page:
            break
        seen += ids(page)
        after = Place(page[-1]["published_at"], page[-1]["test_id"])
        # Between pages, admins save a test not yet seen and one already seen, and publish one.
        for edited in (before[step % 4], before[-1 - step % 4]):
            site.run(SaveTestDocument(edited, versions[edited], document(title=f"v{step}")))
            versions[edited] += 1
        site.create(publish=True)

    assert seen == before[::-1]


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
