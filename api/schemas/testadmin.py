"""Schemas of the test editor: the document admins send, and what the admin routes answer.

The request models give the document's shape (types, the 16 MBTI types, axes and poles), so
that OpenAPI documents it and a wrong type is a 422 naming its path. The domain's
``check_document`` still decides everything that spans fields or depends on settings: a pole
of the choice's axis, the results the questions can produce, the title and size limits.
"""

from datetime import datetime
from typing import Annotated, Any, Literal, Self, get_args
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import RequestBody
from domain.mbti import AXES, TYPES
from domain.testcontent import (
    MAX_CHOICES,
    MAX_DESCRIPTION,
    MAX_IMAGE_KEY,
    MAX_TAG,
    MAX_TAGS,
    MAX_TEXT,
    MAX_WEIGHT,
)
from eventstore.records import Outcome

Axis = Literal["EI", "SN", "TF", "JP"]
Pole = Literal["E", "I", "S", "N", "T", "F", "J", "P"]
# fmt: off
Mbti = Literal[
    "ESTJ", "ESTP", "ESFJ", "ESFP", "ENTJ", "ENTP", "ENFJ", "ENFP",
    "ISTJ", "ISTP", "ISFJ", "ISFP", "INTJ", "INTP", "INFJ", "INFP",
]
# fmt: on
# Spelled out for type checkers and OpenAPI; they must stay the domain's.
assert get_args(Mbti) == TYPES and get_args(Axis) == AXES
assert get_args(Pole) == tuple("".join(AXES))
ImageKey = Annotated[str, Field(max_length=MAX_IMAGE_KEY, description="An image's object key.")]
Tag = Annotated[str, Field(max_length=MAX_TAG)]


class DocumentPart(RequestBody):
    """A part of a test document: strict, and no field the document does not have."""

    model_config = ConfigDict(strict=True, extra="forbid")


class DocumentChoice(DocumentPart):
    """An answer to a question: it scores `weight` for one pole of one axis."""

    text: str = Field(max_length=MAX_TEXT)
    axis: Axis
    pole: Pole = Field(description="One of the two letters of `axis`.")
    weight: int = Field(default=1, ge=1, le=MAX_WEIGHT)


class DocumentQuestion(DocumentPart):
    """A question and its 2 or more choices."""

    text: str = Field(max_length=MAX_TEXT)
    image: ImageKey | None = None
    choices: list[DocumentChoice] = Field(min_length=2, max_length=MAX_CHOICES)


class DocumentResult(DocumentPart):
    """What a visitor of one MBTI type is shown."""

    title: str = Field(max_length=MAX_TEXT)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    image: ImageKey | None = None


class TestDocumentBody(DocumentPart):
    """A whole test document; limits of title, questions and size come from settings."""

    __test__ = False  # not a test class, whatever pytest thinks of the name
    title: str
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    tags: list[Tag] = Field(default_factory=list, max_length=MAX_TAGS)
    require_all: bool = Field(
        default=True, description="Whether a compute must answer every question."
    )
    thumbnail: ImageKey | None = None
    questions: list[DocumentQuestion] = Field(default_factory=list)
    results: dict[Mbti, DocumentResult] = Field(
        default_factory=dict,
        description="One per MBTI type the questions can produce (others allowed).",
    )

    def sent(self) -> dict[str, Any]:
        """The document as the client sent it (defaults left to the domain)."""
        return self.model_dump(exclude_unset=True)


class TestChanged(BaseModel):
    """What a command on a test answers (its version is also the `ETag`)."""

    __test__ = False
    test_id: UUID
    version: int
    published: bool
    deleted: bool
    position: int | None = Field(description="Log position of the change; null: nothing changed.")

    @classmethod
    def from_outcome(cls, outcome: Outcome[Any]) -> Self:
        """The answer to a command on a test (a ``TestState``: the same fields)."""
        return cls.model_validate({**outcome.record, "position": outcome.position})


class TestAdminView(BaseModel):
    """A test as admins edit it (its version is also the `ETag`)."""

    __test__ = False
    test_id: UUID
    document: TestDocumentBody
    version: int
    published: bool
    saved_by: str
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


class TestAdminSummary(BaseModel):
    __test__ = False
    test_id: UUID
    title: str
    tags: list[str]
    thumbnail: str | None
    version: int
    published: bool
    saved_by: str
    updated_at: datetime


class TestAdminPage(BaseModel):
    __test__ = False
    tests: list[TestAdminSummary]
    next_cursor: str | None


class ImageAttached(BaseModel):
    """An image stored under its content hash and attached to a test."""

    test_id: UUID
    target: str = Field(description="`thumbnail`, `questions[i].image` or `results.<MBTI>.image`.")
    key: str
    url: str
    version: int
    position: int | None = Field(description="Log position of the change; null: nothing changed.")

    @classmethod
    def from_outcome(cls, outcome: Outcome[Any], base_url: str) -> Self:
        """The answer to an attachment (an ``AttachedImage``), its URL under ``base_url``."""
        image = outcome.record
        return cls(**image, url=f"{base_url}/assets/{image['key']}", position=outcome.position)


class TestStats(BaseModel):
    """The computes a test had, in all and per MBTI type."""

    __test__ = False
    test_id: UUID
    takes: int
    by_type: dict[str, int] = Field(description="Takes per MBTI type, all 16, zeros included.")
