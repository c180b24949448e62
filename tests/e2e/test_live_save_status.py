"""A save's status live (`GET /api/admin/tests/{id}/status/stream`): each consumer, then the end."""

import uuid

from tests.e2e.sse import messages
from tests.unit.documents import document

TESTS = "/api/admin/tests"
FEEDS = {"test_catalog", "test_search", "test_cache_purge", "test_embeddings"}


def test_a_save_streams_each_consumer_once_then_its_status_and_ends(http, admin):
    created = http.post(TESTS, headers=admin, json=document()).raise_for_status().json()
    test_id = created["test_id"]
    saved = (
        http.put(
            f"{TESTS}/{test_id}", headers={**admin, "If-Match": '"1"'}, json=document(title="Live")
        )
        .raise_for_status()
        .json()
    )
    path = f"{TESTS}/{test_id}/status/stream"

    with http.stream("GET", path, headers=admin, params={"position": saved["position"]}) as s:
        assert s.status_code == 200
        received = [m for m in messages(s.iter_lines()) if m.event]

    consumers = [m for m in received if m.event == "consumer"]
    assert sorted(m.data["name"] for m in consumers) == sorted(FEEDS)  # each once
    assert all(m.data["reached"] and m.position == saved["position"] for m in consumers)
    *_, last = received
    assert last.event == "status"
    assert (last.data["live"], last.data["searchable"]) == (True, True)
    polled = http.get(
        f"{TESTS}/{test_id}/status", headers=admin, params=dict(position=saved["position"])
    )
    assert last.data == polled.json()


def test_a_position_beyond_the_log_is_a_422_before_streaming(http, admin):
    created = http.post(TESTS, headers=admin, json=document()).raise_for_status().json()

    response = http.get(
        f"{TESTS}/{created['test_id']}/status/stream", headers=admin, params={"position": 2**62}
    )

    assert response.status_code == 422
    assert "beyond the log's head" in response.text


def test_an_unknown_test_is_a_404(http, admin):
    response = http.get(
        f"{TESTS}/{uuid.uuid4()}/status/stream", headers=admin, params={"position": 1}
    )

    assert response.status_code == 404
