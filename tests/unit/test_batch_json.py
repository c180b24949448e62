"""The append's batch document (``eventstore.recorder.batch_json``), which the server unpacks."""

import base64
import json
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from eventstore.recorder import batch_json
from eventstore.records import IdempotencyRecord

STREAM = UUID("00000000-0000-4000-8000-000000000001")


def test_events_and_outcomes_are_lists_in_their_order_with_states_in_base64():
    state = "여행 ✓".encode() + bytes([0, 255])
    events = [StoredEvent(STREAM, 1, "a:B", state), StoredEvent(STREAM, 2, "a:C", b"")]
    records = [IdempotencyRecord("key", "fp", {"outcome": {"n": 1}}, (0, 1))]

    batch = json.loads(batch_json(events, records))

    assert batch["events"] == [
        [str(STREAM), 1, "a:B", base64.b64encode(state).decode()],
        [str(STREAM), 2, "a:C", ""],
    ]
    assert batch["outcomes"] == [["key", "fp", {"outcome": {"n": 1}}, [0, 1]]]


def test_an_outcome_orjson_refuses_is_written_by_json():
    records = [IdempotencyRecord("key", "fp", {"outcome": {"n": 2**70}}, ())]

    batch = json.loads(batch_json([], records))

    assert batch["outcomes"][0][2] == {"outcome": {"n": 2**70}}
