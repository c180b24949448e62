"""compute: every type, weights, the tie rule, invalid answers, the types a test can produce."""

from __future__ import annotations

import pytest

from domain.errors import InvalidCommand
from domain.mbti import TYPES, compute, producible_types
from domain.testcontent import DocumentLimits, check_document
from tests.unit.documents import answers_for, axis_question, choice, document


def checked(**fields):
    return check_document(document(**fields), DocumentLimits())


@pytest.mark.parametrize("mbti", TYPES)
def test_each_of_the_16_types_is_computed_from_its_answers(mbti):
    computed = compute(checked(), answers_for(mbti))

    assert computed.mbti == mbti
    assert computed.result == {"title": f"The {mbti}", "description": "...", "image": None}


def test_scores_report_each_axis_sum_per_pole():
    test = checked(
        questions=[
            {"text": "a", "choices": [choice("EI", "E", 3), choice("SN", "N", 2)]},
            {"text": "b", "choices": [choice("EI", "I", 1), choice("TF", "F", 5)]},
        ]
    )

    computed = compute(test, {0: 0, 1: 0})

    assert computed.scores == {
        "EI": {"E": 3, "I": 1},
        "SN": {"S": 0, "N": 0},
        "TF": {"T": 0, "F": 0},
        "JP": {"J": 0, "P": 0},
    }


def test_a_heavier_choice_outweighs_two_lighter_ones():
    light = {"text": "light", "choices": [choice("EI", "E", 1), choice("EI", "I", 1)]}
    heavy = {"text": "heavy", "choices": [choice("EI", "I", 3), choice("EI", "E", 1)]}
    test = checked(questions=[light, light, heavy])

    computed = compute(test, {0: 0, 1: 0, 2: 0})

    assert (computed.mbti[0], computed.scores["EI"]) == ("I", {"E": 2, "I": 3})


@pytest.mark.parametrize("axis_index", range(4))
def test_a_tie_gives_the_first_letter_of_the_axis(axis_index):
    axis = "EI SN TF JP".split()[axis_index]
    tied = {"text": "tie", "choices": [choice(axis, axis[0], 2), choice(axis, axis[1], 2)]}
    test = checked(questions=[tied, tied])

    computed = compute(test, {0: 0, 1: 1})

    assert computed.scores[axis] == {axis[0]: 2, axis[1]: 2}
    assert computed.mbti[axis_index] == axis[0]


def test_no_answers_where_none_are_required_tie_every_axis_into_estj():
    computed = compute(checked(require_all=False), {})

    assert computed.mbti == "ESTJ"
    assert all(sum(poles.values()) == 0 for poles in computed.scores.values())


def test_a_test_not_requiring_all_answers_computes_from_some():
    computed = compute(checked(require_all=False), {1: 1, 3: 1})

    assert computed.mbti == "ENTP"


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({0: 0, 1: 0, 2: 0, 3: 0, 4: 0}, "answers[4]"),  # no fifth question
        ({-1: 0, 0: 0, 1: 0, 2: 0, 3: 0}, "answers[-1]"),
        ({0: 0, 1: 2, 2: 0, 3: 0}, "answers[1]"),  # two choices: 0 and 1
        ({0: 0, 1: -1, 2: 0, 3: 0}, "answers[1]"),
        ({0: 0, 1: True, 2: 0, 3: 0}, "answers[1]"),  # a boolean is no index
        ({0: 0, 1: "1", 2: 0, 3: 0}, "answers[1]"),
        ({"0": 0}, "answers['0']"),
        ({0: 0, 1: 0, 3: 0}, "answers[2]"),  # unanswered, and every question is required
    ],
)
def test_an_invalid_answer_is_refused_naming_the_question(answers, field):
    with pytest.raises(InvalidCommand) as refused:
        compute(checked(), answers)

    assert refused.value.details == {"field": field}


def test_answers_that_are_not_a_mapping_are_refused():
    with pytest.raises(InvalidCommand, match="answers"):
        compute(checked(), [0, 0, 0, 0])  # type: ignore[arg-type]


def test_a_test_without_questions_can_produce_estj_only():
    assert producible_types([], require_all=True) == ["ESTJ"]


def test_an_axis_without_second_pole_choices_produces_its_first_letter_only():
    questions = [axis_question(a) for a in ("SN", "TF", "JP")]
    questions.append({"text": "E only", "choices": [choice("EI", "E", 1), choice("EI", "E", 2)]})

    assert {mbti[0] for mbti in producible_types(questions, require_all=False)} == {"E"}


def test_an_axis_whose_every_answer_scores_its_second_pole_produces_that_letter_only():
    forced = {"text": "I only", "choices": [choice("EI", "I", 1), choice("EI", "I", 2)]}

    assert producible_types([forced], require_all=True) == ["ISTJ"]


def test_an_axis_with_second_pole_choices_only_also_produces_the_first_letter_on_a_tie():
    # Choice 1 scores another axis: E and I both stay 0, and the tie gives E.
    escape = {"text": "I or S", "choices": [choice("EI", "I", 1), choice("SN", "S", 1)]}

    assert producible_types([escape], require_all=True) == ["ESTJ", "ISTJ"]


def test_an_unanswered_question_counts_as_a_way_to_tie():
    forced = {"text": "I only", "choices": [choice("EI", "I", 1), choice("EI", "I", 2)]}

    assert producible_types([forced], require_all=False) == ["ESTJ", "ISTJ"]


def test_every_type_a_computation_returns_is_producible():
    questions = [
        {"text": "a", "choices": [choice("EI", "I", 2), choice("SN", "N", 1), choice("TF", "T")]},
        {"text": "b", "choices": [choice("EI", "E", 1), choice("JP", "P", 3)]},
        {"text": "c", "choices": [choice("SN", "S", 1), choice("EI", "I", 1)]},
    ]
    test = checked(questions=questions)
    every = [{0: a, 1: b, 2: c} for a in range(3) for b in range(2) for c in range(2)]

    computed = {compute(test, answers).mbti for answers in every}

    assert computed <= set(producible_types(questions, require_all=True))
