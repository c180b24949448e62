"""Stored outcomes: errors stored by code, and rows of the first revision still decoded."""

from uuid import UUID

import pytest

from domain.errors import (
    ChronicleError,
    InsufficientCredits,
    RuleSlotLimitReached,
    VersionConflict,
)
from eventstore.idempotency import (
    Idempotency,
    StoredOutcome,
    decode_outcome,
    encode_outcome,
    is_recorded,
    replay,
)


def test_an_error_is_stored_under_its_code():
    stored = encode_outcome(InsufficientCredits("3 available, 5 asked"))
    assert stored == {"error": {"code": "insufficient_credits", "message": "3 available, 5 asked"}}


def test_an_error_with_details_is_stored_and_raised_again_with_them():
    stored = encode_outcome(VersionConflict("at version 4", current_version=4))
    assert stored["error"]["details"] == {"current_version": 4}
    with pytest.raises(VersionConflict) as raised:
        decode_outcome({**stored, "position": None})
    assert raised.value.details == {"current_version": 4}


def test_a_stored_code_is_raised_as_its_error():
    with pytest.raises(RuleSlotLimitReached, match="no slot"):
        decode_outcome({"error": {"code": "rule_slot_limit", "message": "no slot"}, "position": 3})


def test_a_row_of_the_first_revision_names_the_class_and_still_decodes():
    with pytest.raises(RuleSlotLimitReached, match="no slot"):
        decode_outcome({"error": {"type": "RuleSlotLimitReached", "message": "no slot"}})


@pytest.mark.parametrize(
    "error", [{"code": "gone_code", "message": "m"}, {"type": "GoneClass", "message": "m"}]
)
def test_an_unknown_error_decodes_as_the_base_error(error):
    with pytest.raises(ChronicleError) as raised:
        decode_outcome({"error": error})
    assert type(raised.value) is ChronicleError


def test_an_outcome_decodes_with_its_position():
    assert decode_outcome({"outcome": {"available": 3}, "position": 9}) == (
        {"available": 3},
        9,
        False,
    )


def test_an_answer_stored_by_an_earlier_revision_decodes_as_answered():
    assert decode_outcome({"result": {"credits": 3}, "position": 9}) == ({"credits": 3}, 9, True)


def test_an_outcome_is_encoded_as_its_record():
    from domain.jobstatus import ItemReport

    report = ItemReport(UUID(int=1), 2, "failed", "recorded")

    assert encode_outcome(report) == {
        "outcome": {
            "job_id": str(UUID(int=1)),
            "item_index": 2,
            "outcome": "failed",
            "status": "recorded",
        }
    }


def test_a_replay_checks_the_fingerprint_first():
    from domain.errors import IdempotencyKeyReused

    stored = StoredOutcome("fp-1", {"outcome": 1, "position": 2})
    assert replay(Idempotency("k", "fp-1"), stored) == (1, 2, False)
    with pytest.raises(IdempotencyKeyReused):
        replay(Idempotency("k", "fp-2"), stored)


def test_transient_errors_are_not_recorded():
    from domain.errors import EventStoreUnavailable

    assert is_recorded({"credits": 1}) and is_recorded(InsufficientCredits("x"))
    assert not is_recorded(VersionConflict("x")) and not is_recorded(EventStoreUnavailable("x"))
    assert not is_recorded(RuntimeError("bug"))
