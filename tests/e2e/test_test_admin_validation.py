"""The test editor over HTTP: an invalid document, a title over the configured limit and
a document over the configured size are refused on create and on save."""

import pytest

from projections.engine.log import log_head
from tests.e2e.testadmin import (
    MAX_DOCUMENT_BYTES,
    MAX_TITLE,
    TESTS,
    create,
    problem,
    save,
    settings,  # noqa: F401  (a fixture)
)
from tests.unit.documents import document


def _without_choices(doc):
    doc["questions"][0]["choices"] = []


def _unknown_axis(doc):
    doc["questions"][1]["choices"][0]["axis"] = "EX"


def _pole_of_another_axis(doc):
    doc["questions"][0]["choices"][0]["pole"] = "S"  # question 0 is on the EI axis


def _unknown_pole(doc):
    doc["questions"][0]["choices"][1]["pole"] = "X"


def _unknown_type(doc):
    doc["results"]["XXXX"] = {"title": "?"}


def _missing_result(doc):
    del doc["results"]["INFP"]


def _nul_in_title(doc):
    doc["title"] = "a\x00b"


def _nul_in_a_result(doc):
    doc["results"]["ENFP"]["description"] = "\x00"


def _unknown_field(doc):
    doc["questions"][2]["score"] = 3


@pytest.mark.parametrize(
    ("spoil", "field"),
    [
        (_without_choices, "questions.0.choices"),
        (_unknown_axis, "questions.1.choices.0.axis"),
        (_pole_of_another_axis, "questions[0].choices[0].pole"),
        (_unknown_pole, "questions.0.choices.1.pole"),
        (_unknown_type, "results.XXXX"),
        (_missing_result, "results.INFP"),
        (_nul_in_title, "body.title"),
        (_nul_in_a_result, "body.results.ENFP.description"),
        (_unknown_field, "questions.2.score"),
    ],
)
def test_an_invalid_document_is_422_naming_the_field(http, admin, live_server, spoil, field):
    created = create(http, admin)
    doc = document()
    spoil(doc)
    headers = {**admin, "If-Match": '"1"'}

    on_create = http.post(TESTS, headers=admin, json=doc)
    on_save = http.put(f"{TESTS}/{created['test_id']}", headers=headers, json=doc)

    for response in (on_create, on_save):
        assert field in problem(response, 422)["message"]
    assert log_head(live_server.services.reads) == created["position"]


def test_a_title_over_the_configured_limit_is_422_naming_the_title(http, admin):
    response = http.post(TESTS, headers=admin, json=document(title="x" * (MAX_TITLE + 1)))

    error = problem(response, 422)
    assert error["field"] == "title" and str(MAX_TITLE) in error["message"]


def test_a_document_over_the_configured_size_is_413(http, admin):
    created = create(http, admin)
    large = "x" * (MAX_DOCUMENT_BYTES + 1)

    on_create = http.post(TESTS, headers=admin, json=document(description=large))
    on_save = save(http, admin, created["test_id"], 1, description=large)

    for response in (on_create, on_save):
        assert problem(response, 413)["code"] == "payload_too_large"
        assert f"{MAX_DOCUMENT_BYTES:,}" in response.json()["error"]["message"]
