"""UploadSession's rules, through its events (no storage)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import IllegalTransition, InvalidCommand
from domain.uploadsession import (
    MAX_PARTS,
    MIB,
    UploadSession,
    UploadState,
    choose_part_size,
    part_bytes,
)

SHA = "ab" * 32
PART = 5 * MIB


def opened(size: int = 12 * MIB, **overrides: object) -> UploadSession:
    arguments: dict[str, object] = {
        "size": size,
        "content_type": "video/mp4",
        "sha256": SHA,
        "part_size": PART,
        "max_size": 1024 * MIB,
        "storage_upload_id": "upload-1",
        "expires_at": datetime.now(UTC) + timedelta(hours=1),
    }
    arguments.update(overrides)
    return UploadSession.open(uuid4(), uuid4(), **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size", 0),
        ("size", 1024 * MIB + 1),
        ("part_size", PART - 1),
        ("content_type", "mp4"),
        ("content_type", "video/mp4\n"),
        ("sha256", "AB" * 32),
        ("sha256", "ab" * 31),
        ("storage_upload_id", ""),
    ],
)
def test_open_refuses_a_file_it_could_not_carry(field: str, value: object) -> None:
    with pytest.raises(InvalidCommand):
        opened(**{field: value})


def test_open_refuses_a_file_needing_more_than_ten_thousand_parts() -> None:
    with pytest.raises(InvalidCommand, match="more than 10,000 parts"):
        opened(size=PART * MAX_PARTS + 1, max_size=PART * MAX_PARTS * 2)


def test_the_last_part_carries_the_rest() -> None:
    session = opened(size=12 * MIB)

    assert session.part_count == 3
    assert [session.expected_size(n) for n in (1, 2, 3)] == [PART, PART, 2 * MIB]
    assert part_bytes(12 * MIB, PART, 3) == 2 * MIB


def test_a_default_part_size_grows_to_fit_ten_thousand_parts() -> None:
    size = 8 * MIB * MAX_PARTS + 1

    part_size = choose_part_size(size, None, 8 * MIB)

    assert part_size % MIB == 0
    assert -(-size // part_size) <= MAX_PARTS
    assert choose_part_size(size, 64 * MIB, 8 * MIB) == 64 * MIB


def test_recorded_parts_are_progress_and_missing_ones_are_named() -> None:
    session = opened()

    session.record_part(1, PART, '"e1"')
    session.record_part(3, 2 * MIB, '"e3"')

    assert session.received_bytes == 7 * MIB
    assert session.missing_parts() == [2]
    assert [type(e).__name__ for e in session.collect_events()] == [
        "Created",
        "PartReceived",
        "PartReceived",
    ]


def test_a_part_recorded_as_it_is_records_nothing_again() -> None:
    session = opened()
    session.record_part(1, PART, '"e1"')

    again = session.record_part(1, PART, '"e1"')
    replaced = session.record_part(1, PART, '"e1b"')

    assert (again, replaced) == (False, True)
    assert session.parts["1"] == [PART, '"e1b"']


def test_a_part_of_the_wrong_size_stays_missing() -> None:
    session = opened()
    session.record_part(1, PART - 1, '"short"')

    assert 1 in session.missing_parts()


@pytest.mark.parametrize("part_number", [0, 4, True])
def test_a_part_number_outside_the_file_is_refused(part_number: int) -> None:
    with pytest.raises(InvalidCommand):
        opened().record_part(part_number, PART, '"e"')


def test_complete_refuses_while_parts_are_missing() -> None:
    session = opened()
    session.record_part(1, PART, '"e1"')

    with pytest.raises(IllegalTransition, match="parts 2, 3 are missing"):
        session.complete()


def test_an_ended_session_takes_no_part_and_no_second_ending() -> None:
    session = opened()
    session.abort("changed my mind")

    with pytest.raises(IllegalTransition, match="'aborted'"):
        session.record_part(1, PART, '"e1"')
    with pytest.raises(IllegalTransition):
        session.complete()
    assert session.state == UploadState.ABORTED


def test_expire_applies_only_past_the_deadline_and_once() -> None:
    session = opened()
    deadline = session.expires_at

    assert session.expire(deadline - timedelta(seconds=1)) is False
    assert session.expire(deadline) is True
    assert session.expire(deadline) is False
    assert session.state == UploadState.EXPIRED


def test_a_session_replays_from_its_events() -> None:
    session = opened()
    session.record_part(1, PART, '"e1"')
    session.reject("not the declared file")
    events = session.collect_events()

    replayed = None
    for event in events:
        replayed = event.mutate(replayed)

    assert replayed is not None
    assert (replayed.state, replayed.reason, replayed.parts) == (
        UploadState.REJECTED,
        "not the declared file",
        {"1": [PART, '"e1"']},
    )


def test_only_a_completed_file_is_attached_and_each_item_once() -> None:
    session = opened()
    job_id = uuid4()
    with pytest.raises(IllegalTransition, match="needs 'completed'"):
        session.attach(job_id, 0)
    for n in (1, 2, 3):
        session.record_part(n, session.expected_size(n), f'"e{n}"')
    session.complete()

    first = session.attach(job_id, 0)
    again = session.attach(job_id, 0)

    assert (first, again) == (True, False)
    assert session.attachments == [[str(job_id), 0]]
