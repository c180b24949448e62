"""Upload session events stored by earlier code load and rebuild (tests/golden/)."""

import json
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.uploadsession import UploadState
from eventstore.application import Chronicle

FIXTURE = json.loads(
    (Path(__file__).parents[1] / "golden" / "events_v5_uploads.json").read_text("utf-8")
)
METADATA = {"actor": "golden", "correlation_id": "corr-5", "causation_id": "cause-5"}


def stored(row):
    return StoredEvent(
        originator_id=UUID(row["originator_id"]),
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=row["state"].encode("utf-8"),
    )


def rebuilt():
    app = Chronicle()
    app.recorder.insert_events([stored(row) for row in FIXTURE["events"]])
    return app


def test_each_upload_event_loads_with_its_metadata():
    mapper = Chronicle().mapper

    events = [mapper.to_domain_event(stored(row)) for row in FIXTURE["events"]]

    assert {e.metadata["correlation_id"] for e in events} == {METADATA["correlation_id"]}
    assert len(events) == len(FIXTURE["events"])


def test_sessions_rebuild_with_their_parts_and_endings():
    app = rebuilt()
    completed = app.repository.get(UUID("00000000-0000-4000-8000-0000000000e1"))
    rejected = app.repository.get(UUID("00000000-0000-4000-8000-0000000000e2"))
    aborted = app.repository.get(UUID("00000000-0000-4000-8000-0000000000e3"))
    expired = app.repository.get(UUID("00000000-0000-4000-8000-0000000000e4"))

    assert (completed.state, completed.received_bytes, completed.missing_parts()) == (
        UploadState.COMPLETED,
        6 * 1024 * 1024,
        [],
    )
    assert completed.parts["2"] == [1024 * 1024, '"etag-2"']
    assert (rejected.state, aborted.state, expired.state) == (
        UploadState.REJECTED,
        UploadState.ABORTED,
        UploadState.EXPIRED,
    )
    assert completed.expires_at.tzinfo is not None
    assert completed.attachments == [["00000000-0000-4000-8000-0000000000a1", 0]]
