"""A command's outcome as its record: JSON types in the domain's words (no sockets)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from domain.commands.job import JobState
from domain.commands.usercredits import OpenAccount
from domain.errors import NotFound, VersionConflict
from domain.jobstatus import ReportStatus
from domain.usercredits import UserCredits
from eventstore.outcomes import record_of
from eventstore.unitofwork import SavedAggregates


@dataclass(frozen=True)
class Nested:
    when: datetime
    states: tuple[ReportStatus, ...]
    by_id: dict[UUID, int]


def test_a_record_holds_json_types_only() -> None:
    some = uuid4()
    value = Nested(datetime(2026, 12, 4, 10, 0, tzinfo=UTC), (ReportStatus.IGNORED,), {some: 1})

    record = record_of(value)

    assert record == {
        "when": "2026-12-04T10:00:00+00:00",
        "states": ["ignored"],
        "by_id": {str(some): 1},
    }
    assert json.loads(json.dumps(record)) == record


def test_a_record_passes_through_unchanged() -> None:
    state = JobState(uuid4(), "portrait", "queued", None, 1, 0, 2, 2)

    assert record_of(record_of(state)) == record_of(state)


def test_an_aggregate_is_no_outcome() -> None:
    with pytest.raises(TypeError, match="cannot hold a UserCredits"):
        record_of({"account": UserCredits.open(uuid4(), "free", 1)})


def test_saved_aggregates_are_read_only_and_as_last_saved() -> None:
    app = Application()
    user_id = uuid4()
    account = UserCredits.open(user_id, "free", 10)
    app.save(account)
    saved = SavedAggregates(app.repository.get)

    assert saved.get(UserCredits, user_id).available == 10
    assert saved.find(UserCredits, uuid4()) is None
    with pytest.raises(NotFound):
        saved.get(UserCredits, uuid4())
    with pytest.raises(VersionConflict, match="at version 1, not the expected 3"):
        saved.get(UserCredits, user_id, expected_version=3)
    with pytest.raises(TypeError, match="prepare reads aggregates"):
        saved.add(UserCredits.open(uuid4(), "free", 1))


def test_a_command_is_unchanged_by_prepare_when_it_has_none(run: object) -> None:
    user_id = uuid4()

    state = run(OpenAccount(user_id, "free", 10))  # type: ignore[operator]

    assert (state.user_id, state.available, state.version) == (user_id, 10, 1)
