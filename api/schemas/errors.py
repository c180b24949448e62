"""The one shape of every error answer: ``{"error": {"code", "message", ...}}``."""

from pydantic import BaseModel, ConfigDict, Field


class FieldProblem(BaseModel):
    field: str = Field(description="Where: `body.name`, `query.min_position`, ...")
    problem: str


class ErrorDetail(BaseModel):
    """What went wrong; some codes carry facts beside the message (a conflict's version)."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable and machine-readable: act on this, never renamed.")
    message: str = Field(description="For people; its wording may change.")
    fields: list[FieldProblem] | None = Field(
        default=None, description="With `invalid_request`: each field that is not valid."
    )


class ErrorBody(BaseModel):
    """Every error answer."""

    error: ErrorDetail
