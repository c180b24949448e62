"""What a test document may hold: its shape, its limits, and where its images go.

A document is plain JSON data, stored as it is in ``TestDocument`` events::

    {"title": str, "description": str, "tags": [str], "require_all": bool,
     "thumbnail": key | None,
     "questions": [{"text": str, "image": key | None,
                    "choices": [{"text": str, "axis": "EI", "pole": "E", "weight": int}]}],
     "results": {"INTJ": {"title": str, "description": str, "image": key | None}}}

``check_document`` returns it normalised (defaults filled in, title and tags stripped, tags
without repeats, results in type order) or raises InvalidCommand whose ``field`` detail is
the offending path, as in ``questions[2].choices[0].pole`` or ``results.INTJ.title``.
Results are required for every type the questions can produce (``mbti.producible_types``);
results for other types are allowed (a test in the making).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidCommand, TooLarge
from domain.mbti import AXES, TYPES, producible_types

MAX_TITLE = 200  # characters of a test's title
MAX_QUESTIONS = 200
MAX_DOCUMENT_BYTES = 256 * 1024  # of the document's compact UTF-8 JSON
MAX_DESCRIPTION = 10_000
MAX_TEXT = 1_000  # a question's, a choice's or a result's title
MAX_TAGS = 20
MAX_TAG = 50
MAX_CHOICES = 12
MAX_WEIGHT = 100
MAX_IMAGE_KEY = 300
THUMBNAIL = "thumbnail"

# The object store's key rule (adapters/storage/port.py), which the domain cannot import.
_IMAGE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}(/[A-Za-z0-9][A-Za-z0-9._-]{0,254})*")
_TARGET = re.compile(r"thumbnail|questions\[(0|[1-9][0-9]*)\]\.image|results\.([A-Z]{4})\.image")
_FIELDS = {"title", "description", "tags", "require_all", "thumbnail", "questions", "results"}


@dataclass(frozen=True)
class DocumentLimits:
    """The limits that settings may change: title length, questions, the document's JSON bytes."""

    max_title: int = MAX_TITLE
    max_questions: int = MAX_QUESTIONS
    max_document_bytes: int = MAX_DOCUMENT_BYTES


def check_document(document: Any, limits: DocumentLimits) -> dict[str, Any]:
    """The document normalised, or InvalidCommand naming the first field that breaks a rule."""
    _require(isinstance(document, Mapping), "document", "must be an object")
    _only(document, _FIELDS, "")
    require_all = document.get("require_all", True)
    _require(isinstance(require_all, bool), "require_all", "must be true or false")
    questions = document.get("questions", [])
    _require(isinstance(questions, list), "questions", "must be a list")
    _require(
        len(questions) <= limits.max_questions,
        "questions",
        f"has {len(questions)} questions, more than the limit of {limits.max_questions}",
    )
    checked = {
        "title": _text(document.get("title"), "title", limits.max_title).strip(),
        "description": _text(document.get("description", ""), "description", MAX_DESCRIPTION, 0),
        "tags": _tags(document.get("tags", [])),
        "require_all": require_all,
        "thumbnail": _image_key(document.get(THUMBNAIL), THUMBNAIL),
        "questions": [_question(q, f"questions[{i}]") for i, q in enumerate(questions)],
    }
    checked["results"] = _results(document.get("results", {}), checked)
    size = len(json.dumps(checked, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > limits.max_document_bytes:
        raise TooLarge(
            f"document is {size:,} bytes of JSON, more than the limit of "
            f"{limits.max_document_bytes:,}",
            field="document",
        )
    return checked


def image_target(question: int | None = None, mbti: str | None = None) -> str:
    """The target path of an image: a question's, a result's, or (neither given) the thumbnail."""
    if question is not None:
        return f"questions[{question}].image"
    if mbti is not None:
        return f"results.{mbti}.image"
    return THUMBNAIL


def check_image(document: Mapping[str, Any], target: object, key: object) -> None:
    """InvalidCommand unless ``target`` names an image slot of ``document`` and ``key`` is valid."""
    _key(key, "key")
    match = _TARGET.fullmatch(target) if isinstance(target, str) else None
    if match is None:
        raise InvalidCommand(f"target {target!r} is not an image's place in a test", field="target")
    question, mbti = match.groups()
    if question is not None:
        _require(int(question) < len(document["questions"]), "target", "no such question")
    if mbti is not None:
        _require(mbti in document["results"], "target", f"the test has no result for {mbti}")


def image_of(document: Mapping[str, Any], target: str) -> str | None:
    """The image key at ``target`` (a valid one) of ``document``, or None."""
    question, mbti = _slot(target)
    if question is not None:
        return document["questions"][question]["image"]
    if mbti is not None:
        return document["results"][mbti]["image"]
    return document[THUMBNAIL]


def with_image(document: Mapping[str, Any], target: str, key: str) -> dict[str, Any]:
    """A copy of ``document`` with ``key`` at ``target``; ``document`` itself is left as it is."""
    copy = dict(document)
    question, mbti = _slot(target)
    if question is not None:
        copy["questions"] = list(copy["questions"])
        copy["questions"][question] = {**copy["questions"][question], "image": key}
    elif mbti is not None:
        copy["results"] = {**copy["results"], mbti: {**copy["results"][mbti], "image": key}}
    else:
        copy[THUMBNAIL] = key
    return copy


def _slot(target: str) -> tuple[int | None, str | None]:
    match = _TARGET.fullmatch(target)
    assert match is not None, target
    question, mbti = match.groups()
    return (None if question is None else int(question)), mbti


def _question(question: Any, path: str) -> dict[str, Any]:
    _require(isinstance(question, Mapping), path, "must be an object")
    _only(question, {"text", "image", "choices"}, path)
    choices = question.get("choices")
    _require(isinstance(choices, list), f"{path}.choices", "must be a list")
    _require(
        2 <= len(choices) <= MAX_CHOICES,
        f"{path}.choices",
        f"must have 2 to {MAX_CHOICES} choices, has {len(choices)}",
    )
    return {
        "text": _text(question.get("text"), f"{path}.text", MAX_TEXT),
        "image": _image_key(question.get("image"), f"{path}.image"),
        "choices": [_choice(c, f"{path}.choices[{i}]") for i, c in enumerate(choices)],
    }


def _choice(choice: Any, path: str) -> dict[str, Any]:
    _require(isinstance(choice, Mapping), path, "must be an object")
    _only(choice, {"text", "axis", "pole", "weight"}, path)
    axis, pole, weight = choice.get("axis"), choice.get("pole"), choice.get("weight", 1)
    _require(axis in AXES, f"{path}.axis", f"must be one of {', '.join(AXES)}, got {axis!r}")
    _require(
        isinstance(pole, str) and len(pole) == 1 and pole in axis,
        f"{path}.pole",
        f"must be {axis[0]} or {axis[1]} (axis {axis}), got {pole!r}",
    )
    _require(
        isinstance(weight, int) and not isinstance(weight, bool) and 1 <= weight <= MAX_WEIGHT,
        f"{path}.weight",
        f"must be an integer from 1 to {MAX_WEIGHT}, got {weight!r}",
    )
    text = _text(choice.get("text"), f"{path}.text", MAX_TEXT)
    return {"text": text, "axis": axis, "pole": pole, "weight": weight}


def _results(results: Any, checked: Mapping[str, Any]) -> dict[str, Any]:
    _require(isinstance(results, Mapping), "results", "must be an object keyed by MBTI type")
    for mbti in results:
        _require(mbti in TYPES, f"results.{mbti}", "is not one of the 16 MBTI types")
    for mbti in producible_types(checked["questions"], checked["require_all"]):
        _require(mbti in results, f"results.{mbti}", "is missing: the questions can produce it")
    return {mbti: _result(results[mbti], f"results.{mbti}") for mbti in TYPES if mbti in results}


def _result(result: Any, path: str) -> dict[str, Any]:
    _require(isinstance(result, Mapping), path, "must be an object")
    _only(result, {"title", "description", "image"}, path)
    return {
        "title": _text(result.get("title"), f"{path}.title", MAX_TEXT),
        "description": _text(
            result.get("description", ""), f"{path}.description", MAX_DESCRIPTION, 0
        ),
        "image": _image_key(result.get("image"), f"{path}.image"),
    }


def _tags(tags: Any) -> list[str]:
    _require(isinstance(tags, list), "tags", "must be a list")
    _require(len(tags) <= MAX_TAGS, "tags", f"has {len(tags)} tags, more than {MAX_TAGS}")
    stripped = [_text(tag, f"tags[{i}]", MAX_TAG).strip() for i, tag in enumerate(tags)]
    return list(dict.fromkeys(stripped))


def _text(value: Any, path: str, longest: int, shortest: int = 1) -> str:
    _require(isinstance(value, str), path, "must be a string")
    _require(
        shortest <= len(value.strip()) and len(value) <= longest,
        path,
        f"must have {shortest} to {longest} characters",
    )
    # PostgreSQL text cannot hold U+0000, nor UTF-8 a lone surrogate: every read model must.
    _require(_storable(value), path, "must not contain U+0000 or unpaired surrogates")
    return str(value)


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _image_key(key: Any, path: str) -> str | None:
    """None (no image) or a valid key."""
    return None if key is None else _key(key, path)


def _key(key: Any, path: str) -> str:
    _require(
        isinstance(key, str)
        and len(key) <= MAX_IMAGE_KEY
        and _IMAGE_KEY.fullmatch(key) is not None,
        path,
        "must be an object key ('/'-separated segments of letters, digits, '.', '_', '-')",
    )
    return str(key)


def _only(value: Mapping[str, Any], fields: set[str], path: str) -> None:
    unknown = sorted(str(name) for name in set(value) - fields)
    if unknown:
        field = f"{path}.{unknown[0]}" if path else unknown[0]
        raise InvalidCommand(f"{field} is not a field of a test document", field=field)


def _require(ok: bool, field: str, why: str) -> None:
    if not ok:
        raise InvalidCommand(f"{field} {why}", field=field)
