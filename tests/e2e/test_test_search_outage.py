"""The search engine refusing writes for a while, seen over HTTP: the catalog goes on, the save
status says "live, not searchable", the event is parked, and an admin's retry delivers it."""

import uuid
from collections.abc import Iterator

import pytest

from adapters.search import PostgresSearchIndex
from api import bootstrap
from tests.conftest import wait_until
from tests.integration.test_test_search_reactor import FailingSearch
from tests.unit.documents import document

TESTS = "/api/admin/tests"


@pytest.fixture
def settings(settings):
    settings.reactor_max_attempts = 2
    settings.reactor_retry_seconds = 0.01
    return settings


@pytest.fixture
def failing(monkeypatch) -> Iterator[list[FailingSearch]]:
    """The services' search index, wrapped so that its writes fail for chosen tests."""
    built: list[FailingSearch] = []

    def search_index(settings, reads):
        index = FailingSearch(PostgresSearchIndex(reads))
        built.append(index)
        return index

    monkeypatch.setattr(bootstrap, "search_index", search_index)
    yield built


def status(http, admin, test_id, position):
    params = {"position": position, "wait": "true"}
    return http.get(f"{TESTS}/{test_id}/status", headers=admin, params=params).json()


def test_a_refused_index_write_is_parked_then_delivered_by_an_admin_retry(
    failing, live_server, http, admin
):
    search = failing[0]
    test_id = http.post(TESTS, headers=admin, json=document()).raise_for_status().json()["test_id"]
    search.broken.add(uuid.UUID(test_id))
    published = http.post(f"{TESTS}/{test_id}/publish", headers=admin).raise_for_status().json()

    parked = status(http, admin, test_id, published["position"])
    assert (parked["live"], parked["searchable"]) == (True, False), parked
    assert parked["consumers"]["test_search"]["parked"] is True
    assert http.get(f"/api/tests/{test_id}").status_code == 200  # the catalog is unaffected
    assert http.get("/api/tests", params={"q": "여행", "mode": "keyword"}).json()["tests"] == []
    letters = http.get("/admin/dead-letters", headers=admin, params={"reactor": "test_search"})
    open_letters = letters.json()
    assert [(d["aggregate_version"], d["state"]) for d in open_letters] == [
        (1, "parked"),
        (2, "waiting"),
    ]

    search.broken.clear()  # the search engine is fixed
    retried = http.post(f"/admin/dead-letters/{open_letters[0]['id']}/retry", headers=admin)
    assert retried.status_code == 202, retried.text
    wait_until(
        lambda: status(http, admin, test_id, published["position"])["searchable"],
        what="the retried letters to be delivered",
    )

    found = http.get("/api/tests", params={"q": "여행", "mode": "keyword"}).json()["tests"]
    assert [t["id"] for t in found] == [test_id]
    assert [v for t, v in search.written if str(t) == test_id] == [1, 2]
