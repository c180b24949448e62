"""Schemas of the local object store's routes."""

from pydantic import BaseModel, Field


class StoredObject(BaseModel):
    key: str
    size: int = Field(description="Bytes stored.")
