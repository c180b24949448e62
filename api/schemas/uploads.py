"""Schemas of upload sessions, and how a session command's outcome is presented.

``parts_received`` / ``bytes_received`` count the parts storage holds as last recorded;
``missing`` lists the part numbers still to send (absent, or of the wrong size).
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.base import RequestBody
from domain.job import MAX_ITEMS
from domain.uploadsession import MAX_PART_SIZE, MIN_PART_SIZE


class UploadSessionOpen(RequestBody):
    size: int = Field(ge=1, description="The file's size in bytes (at most the server's limit).")
    content_type: str = Field(
        min_length=3, max_length=255, description="`type/subtype[; params]` of the file."
    )
    sha256: str = Field(
        min_length=64, max_length=64, description="The file's SHA-256, 64 lowercase hex digits."
    )
    part_size: int | None = Field(
        default=None,
        ge=MIN_PART_SIZE,
        le=MAX_PART_SIZE,
        description="Bytes per part but the last; none: the server's (grown to fit 10,000 parts).",
    )


class UploadAttach(RequestBody):
    job_id: UUID = Field(description="One of the caller's jobs, still awaiting its uploads.")
    item_index: int = Field(ge=0, le=MAX_ITEMS, description="The item the file becomes.")


class PartUpload(BaseModel):
    part_number: int
    size: int = Field(description="The bytes this part must carry.")
    url: str = Field(description="HTTP PUT the part's bytes here; keep the answer's ETag header.")


class ReceivedPart(BaseModel):
    part_number: int
    size: int
    etag: str


class UploadSessionView(BaseModel):
    session_id: UUID
    state: str = Field(description="open, completed, rejected, aborted or expired.")
    reason: str | None = Field(description="Why a session ended, if it did not complete.")
    object_key: str = Field(description="Where the file is (once completed).")
    size: int
    content_type: str
    sha256: str
    part_size: int
    part_count: int
    parts_received: int
    bytes_received: int
    parts: list[ReceivedPart] = Field(description="The parts storage holds, by number.")
    missing: list[int] = Field(description="Part numbers still to send (an open session).")
    part_uploads: list[PartUpload] = Field(
        description="An upload URL for every missing part of an open session."
    )
    upload_expires_in: int | None = Field(description="Seconds the part URLs stay valid.")
    download_url: str | None = Field(description="A URL of the file, once completed.")
    expires_at: datetime = Field(description="An open session expires then; its parts dropped.")
    position: int | None = Field(description="Log position of the command's last event.")

    @classmethod
    def of(
        cls,
        record: dict[str, Any],
        position: int | None,
        part_uploads: list[PartUpload],
        upload_expires_in: int | None,
        download_url: str | None,
    ) -> "UploadSessionView":
        parts = [ReceivedPart(**p) for p in record["parts"]]
        return cls(
            session_id=record["session_id"],
            state=record["state"],
            reason=record["reason"],
            object_key=record["object_key"],
            size=record["size"],
            content_type=record["content_type"],
            sha256=record["sha256"],
            part_size=record["part_size"],
            part_count=record["part_count"],
            parts_received=len(parts),
            bytes_received=record["received_bytes"],
            parts=parts,
            missing=record["missing"],
            part_uploads=part_uploads,
            upload_expires_in=upload_expires_in,
            download_url=download_url,
            expires_at=record["expires_at"],
            position=position,
        )
