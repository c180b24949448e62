"""Test documents for unit tests: one question per axis, so that answers can give any type."""

from __future__ import annotations

from typing import Any

from domain.mbti import AXES, TYPES


def choice(axis: str, pole: str, weight: int = 1, text: str = "") -> dict[str, Any]:
    return {"text": text or f"{pole} x{weight}", "axis": axis, "pole": pole, "weight": weight}


def axis_question(axis: str) -> dict[str, Any]:
    """Choice 0 scores the axis' first letter, choice 1 its second, both weighing 1."""
    return {"text": f"Which {axis}?", "choices": [choice(axis, axis[0]), choice(axis, axis[1])]}


def document(**fields: Any) -> dict[str, Any]:
    """A valid document that can produce all 16 types; ``fields`` replace its own."""
    return {
        "title": "여행 성향 테스트",
        "description": "Which traveller are you?",
        "tags": ["travel", "여행"],
        "questions": [axis_question(axis) for axis in AXES],
        "results": {mbti: {"title": f"The {mbti}", "description": "..."} for mbti in TYPES},
        **fields,
    }


def answers_for(mbti: str) -> dict[int, int]:
    """The answers to ``document()`` that give ``mbti``."""
    return {i: axis.index(letter) for i, (axis, letter) in enumerate(zip(AXES, mbti, strict=True))}
