"""JSON Lines written by orjson read back as the rows the events describe, whatever the values."""

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import uuid4

import pytest

from eventstore.export import write_jsonl
from eventstore.history import HistoryEvent

KOREA = timezone(timedelta(hours=9))
ODD = timezone(timedelta(minutes=1, seconds=30))  # an offset with seconds: orjson drops them


def event(recorded_at, data):
    return HistoryEvent(
        position=3,
        recorded_at=recorded_at,
        aggregate_type="Job",
        aggregate_id=uuid4(),
        version=2,
        event_type="Job.Queued",
        actor="user:ann",
        correlation_id="req-1",
        causation_id="cmd-1",
        data=data,
        topic="domain.job:Job.Queued",
    )


@pytest.mark.parametrize(
    ("recorded_at", "data"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), {"title": "여행", "n": 1.5, "ok": None}),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=KOREA), {"nested": {"list": [1, "a"]}}),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=ODD), {}),
        (None, {"big": 2**70}),
    ],
    ids=["utc", "korea", "offset-with-seconds", "no-time-big-integer"],
)
def test_each_line_reads_back_as_the_event_with_iso_time_and_text_id(recorded_at, data):
    written = event(recorded_at, data)
    out = io.BytesIO()
    assert write_jsonl([written], out) == 1
    (row,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert row == {
        "position": 3,
        "recorded_at": recorded_at.isoformat() if recorded_at else None,
        "aggregate_type": "Job",
        "aggregate_id": str(written.aggregate_id),
        "version": 2,
        "event_type": "Job.Queued",
        "actor": "user:ann",
        "correlation_id": "req-1",
        "causation_id": "cmd-1",
        "topic": "domain.job:Job.Queued",
        "data": data,
    }
