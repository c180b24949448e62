"""Schemas of the public test site, and the JSON bytes its cached reads are served as.

The public document leaves scoring out: which pole a choice scores, and its weight, stay on
the server (``POST /api/tests/{id}/compute`` uses them). Images are URLs of ``GET /assets``.
Lists and details are rendered to bytes once, cached as they are and served without parsing.
"""

from datetime import datetime
from typing import Any, Self
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from adapters.search import SearchHit
from api.schemas.base import RequestBody
from eventstore.records import Outcome

MAX_ANSWERS = 1000  # settings allow at most 1000 questions per test
_MAX_INDEX_DIGITS = 9


class TestSummary(BaseModel):
    """What a list page shows of a test."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    id: UUID
    title: str
    thumbnail_url: str | None
    tags: list[str]
    updated_at: datetime


class SearchInfo(BaseModel):
    """How a search was answered: the mode asked, the modes that found something, the method."""

    mode: str = Field(description="`hybrid`, `keyword` or `semantic`, as asked (default hybrid).")
    modes: list[str] = Field(description="The modes whose hits are in the answer.")
    method: str | None = Field(
        default=None,
        description="How vectors were ranked: `pgvector` or `in-process`; null: by keywords only.",
    )
    model: str | None = Field(default=None, description="The embedding model of the vectors.")
    rrf_k: int | None = Field(default=None, description="Reciprocal rank fusion's k (hybrid).")
    note: str | None = Field(
        default=None, description="Why a hybrid search was answered by keywords only."
    )


class TestPage(BaseModel):
    """Published tests, newest first."""

    __test__ = False

    tests: list[TestSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")
    search: SearchInfo | None = Field(
        default=None, description="With `q`: how the search was answered; null without `q`."
    )


class SimilarTests(BaseModel):
    """The published tests nearest in meaning to one test, nearest first (never itself)."""

    test_id: UUID
    tests: list[TestSummary]
    method: str = Field(description="`pgvector` (in the database) or `in-process` (`real[]`).")
    model: str
    note: str | None = Field(default=None, description="Why the list is empty, when it is.")


class PublicChoice(BaseModel):
    text: str


class PublicQuestion(BaseModel):
    text: str
    image_url: str | None
    choices: list[PublicChoice] = Field(description="Answer with a choice's index (from 0).")


class PublicResult(BaseModel):
    title: str
    description: str
    image_url: str | None


class PublicTest(BaseModel):
    """A published test as visitors take it (no scoring)."""

    id: UUID
    version: int = Field(description="The document's version, also the `ETag`.")
    title: str
    description: str
    tags: list[str]
    thumbnail_url: str | None
    require_all: bool = Field(description="Whether every question must be answered.")
    questions: list[PublicQuestion]
    results: dict[str, PublicResult] = Field(description="By MBTI type.")
    updated_at: datetime


class ComputeRequest(RequestBody):
    answers: dict[str, int] = Field(
        max_length=MAX_ANSWERS,
        description='Question index (a decimal string, from "0") -> choice index.',
    )

    @field_validator("answers")
    @classmethod
    def _question_indexes(cls, answers: dict[str, int]) -> dict[str, int]:
        # JSON keys are strings: refuse "01", "-1" or "x" by name rather than guess a question.
        problem = PydanticCustomError(
            "question_index", "must be a question index: a decimal integer such as 0 or 12"
        )
        bad = [
            InitErrorDetails(type=problem, loc=(key,), input=key)
            for key in answers
            if not _is_index(key)
        ]
        if bad:
            raise ValidationError.from_exception_data(cls.__name__, bad)
        return answers

    def indexed(self) -> dict[int, int]:
        """The answers keyed by question index."""
        return {int(key): choice for key, choice in self.answers.items()}


class ComputeAnswer(BaseModel):
    """The type that the answers give, its result, and each axis' sum per pole."""

    test_id: UUID
    version: int = Field(description="The document version the answers were scored on.")
    mbti: str
    result: PublicResult
    scores: dict[str, dict[str, int]] = Field(description='Per axis: {"EI": {"E": 2, "I": 1}}.')
    position: int | None

    @classmethod
    def from_outcome(cls, outcome: Outcome[Any], base_url: str) -> Self:
        """The answer to a compute (a ``Take``), its result's image as a URL under ``base_url``."""
        take = outcome.record
        return cls(
            test_id=take["test_id"],
            version=take["version"],
            mbti=take["mbti"],
            result=_result(take["result"], base_url),
            scores=take["scores"],
            position=outcome.position,
        )


def image_url(base_url: str, key: str | None) -> str | None:
    """The public URL of an image key, or None without an image."""
    return None if key is None else f"{base_url}/assets/{key}"


def summary_of_row(row: dict[str, Any], base_url: str) -> TestSummary:
    """A list entry from a ``test_catalog`` row."""
    return TestSummary(
        id=row["test_id"],
        title=row["title"],
        thumbnail_url=image_url(base_url, row["thumbnail"]),
        tags=list(row["tags"]),
        updated_at=row["updated_at"],
    )


def summary_of_hit(hit: SearchHit, base_url: str) -> TestSummary:
    """A list entry from a search hit."""
    return TestSummary(
        id=hit.id,
        title=hit.title,
        thumbnail_url=image_url(base_url, hit.thumbnail),
        tags=list(hit.tags),
        updated_at=hit.updated_at,
    )


def render_page(
    tests: list[TestSummary], next_cursor: str | None, search: SearchInfo | None = None
) -> bytes:
    """A list page as JSON bytes."""
    page = TestPage(tests=tests, next_cursor=next_cursor, search=search)
    return page.model_dump_json().encode()


def render_test(row: dict[str, Any], base_url: str) -> bytes:
    """The public document of a ``test_catalog`` row as JSON bytes."""
    document = row["document"]
    test = PublicTest(
        id=row["test_id"],
        version=row["version"],
        title=row["title"],
        description=row["description"],
        tags=list(row["tags"]),
        thumbnail_url=image_url(base_url, row["thumbnail"]),
        require_all=document["require_all"],
        questions=[
            PublicQuestion(
                text=q["text"],
                image_url=image_url(base_url, q.get("image")),
                choices=[PublicChoice(text=c["text"]) for c in q["choices"]],
            )
            for q in document["questions"]
        ],
        results={mbti: _result(r, base_url) for mbti, r in document["results"].items()},
        updated_at=row["updated_at"],
    )
    return test.model_dump_json().encode()


def _result(result: dict[str, Any], base_url: str) -> PublicResult:
    return PublicResult(
        title=result["title"],
        description=result["description"],
        image_url=image_url(base_url, result.get("image")),
    )


def _is_index(key: str) -> bool:
    return (
        key.isascii()
        and key.isdigit()
        and len(key) <= _MAX_INDEX_DIGITS
        and (key == "0" or not key.startswith("0"))
    )
