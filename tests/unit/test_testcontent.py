"""What a test document may hold: each broken rule is refused naming its field path."""

from __future__ import annotations

import pytest

from domain.errors import InvalidCommand
from domain.mbti import TYPES
from domain.testcontent import DocumentLimits, check_document, image_target
from tests.unit.documents import axis_question, choice, document


def refused_field(doc, limits=None):
    with pytest.raises(InvalidCommand) as refused:
        check_document(doc, limits or DocumentLimits())
    return refused.value.details["field"]


def with_question(index, question):
    doc = document()
    doc["questions"][index] = question
    return doc


def with_choice(question, index, **fields):
    doc = document()
    doc["questions"][question]["choices"][index].update(fields)
    return doc


def test_a_valid_document_is_normalised_with_defaults():
    doc = document(title="  여행 성향  ", tags=[" travel", "travel", "여행 "])
    del doc["description"]

    checked = check_document(doc, DocumentLimits())

    assert (checked["title"], checked["tags"], checked["description"]) == (
        "여행 성향",
        ["travel", "여행"],
        "",
    )
    assert (checked["require_all"], checked["thumbnail"]) == (True, None)
    assert checked["questions"][0]["image"] is None
    assert list(checked["results"]) == list(TYPES)


def test_normalising_twice_changes_nothing():
    once = check_document(document(), DocumentLimits())

    assert check_document(once, DocumentLimits()) == once


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        (document(results={**document()["results"], "ABCD": {"title": "x"}}), "results.ABCD"),
        (with_question(1, {"text": "one", "choices": [choice("SN", "S")]}), "questions[1].choices"),
        (with_question(1, {"text": "none", "choices": []}), "questions[1].choices"),
        (with_choice(0, 1, axis="EX"), "questions[0].choices[1].axis"),
        (with_choice(2, 0, pole="E"), "questions[2].choices[0].pole"),
        (with_choice(2, 0, pole="tf"), "questions[2].choices[0].pole"),
        (with_choice(3, 1, weight=0), "questions[3].choices[1].weight"),
        (with_choice(3, 1, weight=True), "questions[3].choices[1].weight"),
        (with_choice(3, 1, weight=1.5), "questions[3].choices[1].weight"),
        (with_choice(0, 0, text=""), "questions[0].choices[0].text"),
        (with_choice(0, 0, colour="red"), "questions[0].choices[0].colour"),
        (with_question(0, {**axis_question("EI"), "text": "a\x00b"}), "questions[0].text"),
        (with_question(0, {**axis_question("EI"), "text": "\ud800"}), "questions[0].text"),
        (with_question(0, {**axis_question("EI"), "image": "../etc/passwd"}), "questions[0].image"),
        (document(title="   "), "title"),
        (document(tags="travel"), "tags"),
        (document(tags=["ok", ""]), "tags[1]"),
        (document(require_all="yes"), "require_all"),
        (document(thumbnail="/abs/key.png"), "thumbnail"),
        (document(colour="red"), "colour"),
        (document(results={**document()["results"], "INTJ": {"title": 5}}), "results.INTJ.title"),
        ({"title": "x"}, "results.ESTJ"),  # no questions: ties make ESTJ, which needs a result
        ("a string", "document"),
    ],
)
def test_a_broken_rule_is_refused_naming_the_field(doc, field):
    assert refused_field(doc) == field


def test_a_missing_result_for_a_type_the_questions_can_produce_is_refused():
    doc = document()
    del doc["results"]["INFP"]

    assert refused_field(doc) == "results.INFP"


def test_results_are_needed_only_for_types_the_questions_can_produce():
    doc = document(questions=[axis_question("EI")], results={"ESTJ": {"title": "E"}})
    assert refused_field(doc) == "results.ISTJ"

    doc["results"]["ISTJ"] = {"title": "I"}
    assert list(check_document(doc, DocumentLimits())["results"]) == ["ESTJ", "ISTJ"]


def test_the_title_length_limit_is_the_commands():
    limits = DocumentLimits(max_title=5)

    assert refused_field(document(title="123456"), limits) == "title"
    assert check_document(document(title="12345"), limits)["title"] == "12345"


def test_the_question_count_limit_is_the_commands():
    assert refused_field(document(), DocumentLimits(max_questions=3)) == "questions"


def test_the_document_size_limit_counts_its_json_bytes():
    size = len(str(check_document(document(), DocumentLimits())).encode())  # about its JSON size

    with pytest.raises(InvalidCommand, match="bytes") as refused:
        check_document(document(), DocumentLimits(max_document_bytes=size // 2))

    assert refused.value.details == {"field": "document"}


def test_image_targets_name_the_field_the_key_goes_to():
    assert image_target() == "thumbnail"
    assert image_target(question=2) == "questions[2].image"
    assert image_target(mbti="INTJ") == "results.INTJ.image"
