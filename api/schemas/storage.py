"""Schemas of the local object store's routes."""

from pydantic import BaseModel, Field


class StoredObject(BaseModel):
    key: str
    size: int = Field(description="Bytes stored.")


class StoredPartView(BaseModel):
    key: str = Field(description="The object the part belongs to.")
    part_number: int
    size: int = Field(description="Bytes stored.")
    etag: str = Field(description="The part's ETag (also the `ETag` header, as S3 answers).")
