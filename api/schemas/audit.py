"""Schemas of the audit log's JSON API: events, pages, an aggregate's state and its history."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field


class RecordedEvent(BaseModel):
    """A stored event's type, metadata and own fields."""

    recorded_at: datetime = Field(description="The event's timestamp.")
    aggregate_type: str
    aggregate_id: UUID
    version: int = Field(description="The aggregate's version this event made.")
    event_type: str = Field(description="`Aggregate.Event`, e.g. `UserCredits.Reserved`.")
    topic: str = Field(description="The stored topic (`module:QualName`).")
    resolved: bool = Field(
        description="False when the topic names no class any more: `data` is then the raw fields."
    )
    actor: str
    correlation_id: str
    causation_id: str
    data: dict[str, Any] = Field(description="The event's own fields.")


class AuditEvent(RecordedEvent):
    """One stored event as the audit log shows it, at its log position."""

    position: int = Field(description="The event's log position.")


class AuditEventPage(BaseModel):
    """A page of events, newest first."""

    events: list[AuditEvent]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")


class AggregateState(BaseModel):
    """An aggregate's state as it was at one version."""

    aggregate_id: UUID
    aggregate_type: str
    version: int
    state: dict[str, Any] = Field(description="Its public attributes, as JSON.")


class StateChange(BaseModel):
    """One difference between two versions of a state."""

    path: str = Field(description="Where, e.g. `document.questions[2].text`.")
    kind: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None


class AggregateVersion(BaseModel):
    """One version of an aggregate: the event that made it, and what changed."""

    version: int
    event: RecordedEvent
    changes: list[StateChange]


class AggregateHistory(BaseModel):
    """An aggregate's versions, oldest first, each with its diff against the one before."""

    aggregate_id: UUID
    versions: list[AggregateVersion]
    next_after: int | None = Field(description="Pass as `after` for the next versions.")


class Correlation(BaseModel):
    """Every event one request caused, across aggregates, in log order."""

    correlation_id: str
    events: list[AuditEvent]
