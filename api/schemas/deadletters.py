"""Schemas of reactors' dead letters."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

DeadLetterState = Literal["parked", "waiting", "retrying", "delivered"]


class DeadLetter(BaseModel):
    """An event a reactor could not deliver, or one waiting behind it."""

    id: int
    reactor: str
    position: int = Field(description="The event's log position.")
    aggregate_id: UUID
    aggregate_version: int
    topic: str = Field(description="The event's type.")
    state: DeadLetterState
    attempts: int
    error: str | None
    first_failed_at: datetime | None
    last_failed_at: datetime | None
    delivered_at: datetime | None
    recorded_at: datetime
