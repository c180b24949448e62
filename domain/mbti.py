"""MBTI scoring: the four axes, the sixteen types, which types a test can produce, and compute.

Each axis has two poles, first letter first: E/I, S/N, T/F, J/P. A choice scores one pole
of one axis with a positive weight. ``compute`` sums, per axis, the weights of the chosen
choices for each pole; the pole with the higher sum gives the axis' letter, and a tie (equal
sums, zero included) gives the axis' FIRST letter: E, S, T, J.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

from domain.errors import InvalidCommand

AXES: tuple[str, ...] = ("EI", "SN", "TF", "JP")
TYPES: tuple[str, ...] = tuple("".join(letters) for letters in product(*AXES))


@dataclass(frozen=True)
class Computed:
    """One compute: the type, each axis' sum per pole (``{"EI": {"E": 3, "I": 1}}``), the result."""

    mbti: str
    scores: dict[str, dict[str, int]]
    result: dict[str, Any]


def producible_types(questions: Sequence[Mapping[str, Any]], require_all: bool) -> list[str]:
    """The types a test needs a result for: those whose four letters can each win their axis.

    A letter can win its axis when some set of answers that ``compute`` accepts makes its pole
    win (the higher sum, or a tie for the first letter). Per axis, an answer to a question adds
    ``+weight`` (first pole), ``-weight`` (second pole) or 0 (a choice on another axis, or no
    answer when ``require_all`` is false); answers are independent, so the largest reachable
    difference is the sum of each question's largest, and the smallest likewise. The first
    letter can win when the largest difference is >= 0, the second when the smallest is < 0.
    So an axis with no choices for its second pole only produces its first letter, and one with
    no choices for its first pole produces the second, plus the first whenever a tie can occur.
    The four axes are judged apart (one answer scores one axis only), so this may ask for a
    result of a type no single set of answers reaches; it never omits one that compute returns.
    """
    letters = []
    for axis in AXES:
        high = low = 0
        for question in questions:
            signed = [_signed(choice, axis) for choice in question["choices"]]
            if not require_all:
                signed.append(0)
            high += max(signed)
            low += min(signed)
        letters.append(axis[0] * (high >= 0) + axis[1] * (low < 0))
    return ["".join(letters) for letters in product(*letters)]


def compute(document: Mapping[str, Any], answers: Mapping[int, int]) -> Computed:
    """The type, scores and result that ``answers`` (question index -> choice index) give.

    InvalidCommand (``field`` = ``answers[i]``) for an unknown question, a choice out of range,
    or an unanswered question when the document's ``require_all`` is true.
    """
    questions = document["questions"]
    if not isinstance(answers, Mapping):
        raise InvalidCommand("answers must map question indexes to choice indexes", field="answers")
    sums = {pole: 0 for axis in AXES for pole in axis}
    for index, choice_index in answers.items():
        field = f"answers[{index!r}]"
        if not _is_int(index) or not 0 <= index < len(questions):
            raise InvalidCommand(f"{field}: no such question", field=field)
        choices = questions[index]["choices"]
        if not _is_int(choice_index) or not 0 <= choice_index < len(choices):
            raise InvalidCommand(
                f"{field}: choice {choice_index!r} is not one of 0 to {len(choices) - 1}",
                field=field,
            )
        choice = choices[choice_index]
        sums[choice["pole"]] += choice["weight"]
    if document["require_all"]:
        for index in range(len(questions)):
            if index not in answers:
                field = f"answers[{index}]"
                raise InvalidCommand(f"{field}: unanswered; every question needs one", field=field)
    scores = {axis: {axis[0]: sums[axis[0]], axis[1]: sums[axis[1]]} for axis in AXES}
    mbti = "".join(axis[0] if sums[axis[0]] >= sums[axis[1]] else axis[1] for axis in AXES)
    return Computed(mbti, scores, document["results"][mbti])


def _signed(choice: Mapping[str, Any], axis: str) -> int:
    if choice["axis"] != axis:
        return 0
    return choice["weight"] if choice["pole"] == axis[0] else -choice["weight"]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
