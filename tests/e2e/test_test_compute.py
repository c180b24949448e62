"""Computing a test's result over HTTP: the type, its result, ties, bad answers, the take."""

import uuid

import pytest

from domain.commands.testdocument import CreateTestDocument, DeleteTestDocument
from domain.mbti import AXES
from domain.testtake import TestTake
from projections.teststats.queries import get_test_stats
from tests.e2e.testsite import caught_up, published, run
from tests.unit.documents import answers_for, axis_question, document


@pytest.fixture
def services(live_server):
    return live_server.services


def compute(http, test_id, answers):
    body = {"answers": {str(q): c for q, c in answers.items()}}
    return http.post(f"/api/tests/{test_id}/compute", json=body)


def test_compute_gives_the_type_of_the_answers_with_its_result_and_scores(http, services):
    test_id = published(services)

    response = compute(http, test_id, answers_for("INFP"))

    body = response.json()
    assert response.status_code == 200
    assert (body["test_id"], body["version"], body["mbti"]) == (str(test_id), 2, "INFP")
    assert body["result"] == {"title": "The INFP", "description": "...", "image_url": None}
    assert body["scores"] == {
        "EI": {"E": 0, "I": 1},
        "SN": {"S": 0, "N": 1},
        "TF": {"T": 0, "F": 1},
        "JP": {"J": 0, "P": 1},
    }


def test_a_tie_on_an_axis_goes_to_its_first_letter(http, services):
    questions = [axis_question(axis) for axis in AXES] + [axis_question("EI")]
    test_id = published(services, questions=questions)

    # I on the first EI question, E on the second: 1 to 1, so E.
    response = compute(http, test_id, {0: 1, 1: 1, 2: 1, 3: 1, 4: 0})

    assert response.json()["mbti"] == "ENFP"
    assert response.json()["scores"]["EI"] == {"E": 1, "I": 1}


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({0: 0, 1: 0, 2: 0, 3: 0, 9: 0}, "answers[9]"),  # no such question
        ({0: 2, 1: 0, 2: 0, 3: 0}, "answers[0]"),  # two choices: 0 and 1
        ({0: 0, 1: 0, 2: 0}, "answers[3]"),  # unanswered, and every one is required
    ],
)
def test_invalid_answers_are_422_naming_the_answer(http, services, answers, field):
    test_id = published(services)

    response = compute(http, test_id, answers)

    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


@pytest.mark.parametrize(("key", "value"), [("x", 0), ("01", 0), ("-1", 0), ("0", True)])
def test_an_answer_that_is_no_index_is_422_naming_it(http, services, key, value):
    test_id = published(services)

    response = http.post(f"/api/tests/{test_id}/compute", json={"answers": {key: value}})

    assert response.status_code == 422
    assert response.json()["error"]["fields"][0]["field"] == f"body.answers.{key}"


def test_computing_an_unknown_unpublished_or_deleted_test_is_404(http, services):
    draft = uuid.uuid4()
    run(services, CreateTestDocument(draft, document()))
    deleted = published(services)
    run(services, DeleteTestDocument(deleted))

    for test_id in (uuid.uuid4(), draft, deleted):
        assert compute(http, test_id, answers_for("ESTJ")).status_code == 404


def test_a_compute_records_an_anonymous_take_that_the_stats_count(http, services):
    test_id = published(services)

    response = http.post(
        f"/api/tests/{test_id}/compute",
        json={"answers": {str(q): c for q, c in answers_for("ISTP").items()}},
        headers={"X-Request-ID": "visit-1"},
    )
    position = response.json()["position"]
    caught_up(services, position, ["test_stats"])

    app = services.event_store
    [notification] = app.recorder.select_notifications(start=position, limit=1)
    event = app.mapper.to_domain_event(notification)
    assert isinstance(event, TestTake.Created)
    assert (event.test_id, event.test_version, event.mbti) == (test_id, 2, "ISTP")
    assert event.metadata == {
        "actor": "public",
        "correlation_id": "visit-1",
        "causation_id": "request:visit-1",
    }
    assert get_test_stats(services.reads, test_id) == {"ISTP": 1}
