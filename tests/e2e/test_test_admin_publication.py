"""The test editor over HTTP: publish and unpublish, delete, and the admin list of drafts
and published tests."""

from tests.e2e.testadmin import (
    PNG,
    TESTS,
    create,
    problem,
    read,
    save,
    settings,  # noqa: F401  (a fixture)
)


def test_publish_and_unpublish_change_the_flag_once(http, admin):
    created = create(http, admin)
    test = f"{TESTS}/{created['test_id']}"

    published = http.post(f"{test}/publish", headers=admin)
    again = http.post(f"{test}/publish", headers=admin)
    unpublished = http.post(f"{test}/unpublish", headers={**admin, "If-Match": '"2"'})

    assert (published.json()["published"], published.json()["version"]) == (True, 2)
    assert published.headers["ETag"] == '"2"'
    assert (again.json()["version"], again.json()["position"]) == (2, None)
    assert (unpublished.json()["published"], unpublished.json()["version"]) == (False, 3)
    assert (
        read(http, admin, created["test_id"], unpublished.json()["position"]).json()["published"]
        is False
    )


def test_publishing_against_a_stale_if_match_is_409(http, admin):
    created = create(http, admin)
    save(http, admin, created["test_id"], 1, title="Newer").raise_for_status()

    response = http.post(
        f"{TESTS}/{created['test_id']}/publish", headers={**admin, "If-Match": '"1"'}
    )

    assert problem(response, 409)["current_version"] == 2


def test_publishing_against_the_current_version_as_a_weak_tag_is_409(http, admin):
    created = create(http, admin)

    response = http.post(
        f"{TESTS}/{created['test_id']}/publish", headers={**admin, "If-Match": 'W/"1"'}
    )

    assert problem(response, 409)["current_version"] == 1


def test_deleting_with_if_match_star_deletes_whatever_version_exists(http, admin):
    created = create(http, admin)
    save(http, admin, created["test_id"], 1, title="Newer").raise_for_status()

    response = http.delete(f"{TESTS}/{created['test_id']}", headers={**admin, "If-Match": "*"})

    assert response.status_code == 200, response.text
    assert (response.json()["deleted"], response.json()["version"]) == (True, 3)


def test_a_deleted_test_is_404_to_every_admin_route(http, admin):
    created = create(http, admin)
    test = f"{TESTS}/{created['test_id']}"
    deleted = http.delete(test, headers=admin)
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True

    after = [
        http.get(test, headers=admin, params={"min_position": deleted.json()["position"]}),
        save(http, admin, created["test_id"], 2),
        save(http, admin, created["test_id"], 1),  # stale, and deleted: deleted wins
        http.post(f"{test}/publish", headers=admin),
        http.post(f"{test}/unpublish", headers=admin),
        http.delete(test, headers=admin),
        http.get(f"{test}/stats", headers=admin),
        http.post(f"{test}/images", headers=admin, files={"file": ("a.png", PNG, "image/png")}),
        http.put(f"{test}/results/INTJ/image", headers=admin, content=PNG),
    ]

    assert [r.status_code for r in after] == [404] * len(after), [r.text for r in after]


def test_the_admin_list_has_drafts_and_published_tests_but_not_deleted_ones(http, admin):
    draft = create(http, admin, title="Draft")
    live = create(http, admin, title="Live")
    gone = create(http, admin, title="Gone")
    http.post(f"{TESTS}/{live['test_id']}/publish", headers=admin).raise_for_status()
    last = http.delete(f"{TESTS}/{gone['test_id']}", headers=admin).json()["position"]

    first = http.get(TESTS, headers=admin, params={"min_position": last, "limit": 1}).json()
    second = http.get(TESTS, headers=admin, params={"cursor": first["next_cursor"]}).json()

    listed = first["tests"] + second["tests"]
    assert [(t["test_id"], t["published"]) for t in listed] == [
        (live["test_id"], True),
        (draft["test_id"], False),
    ]
    assert second["next_cursor"] is None
