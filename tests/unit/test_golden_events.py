"""Events and snapshots stored by earlier code load and apply with today's (tests/golden/)."""

import json
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from domain.base import Aggregate
from domain.errors import IdempotencyKeyReused, NotFound, ReservationSettled
from domain.job import Job
from domain.rule import Rule
from domain.testdocument import TestDocument
from domain.testtake import TestTake
from domain.usercredits import UserCredits
from eventstore.application import Chronicle
from eventstore.topics import TOPICS

GOLDEN = Path(__file__).parents[1] / "golden"
FIXTURES = sorted(GOLDEN.glob("events_v*.json"))
V1 = json.loads((GOLDEN / "events_v1.json").read_text(encoding="utf-8"))
V2 = json.loads((GOLDEN / "events_v2.json").read_text(encoding="utf-8"))
USER = UUID("00000000-0000-4000-8000-000000000001")
JOB_DONE = UUID("00000000-0000-4000-8000-0000000000a1")
JOB_CANCELED = UUID("00000000-0000-4000-8000-0000000000a2")
JOB_STALLED = UUID("00000000-0000-4000-8000-0000000000a3")
RULE = UUID("00000000-0000-4000-8000-0000000000b1")
RULE_KEPT = UUID("00000000-0000-4000-8000-0000000000b2")
TEST = UUID("00000000-0000-4000-8000-0000000000c1")
TEST_DELETED = UUID("00000000-0000-4000-8000-0000000000c2")
TAKE = UUID("00000000-0000-4000-8000-0000000000d1")
METADATA = {"actor": "golden", "correlation_id": "corr-1", "causation_id": "cause-1"}
METADATA_V2 = {"actor": "golden", "correlation_id": "corr-2", "causation_id": "cause-2"}


def stored(row):
    """A row of the fixture as the recorder reads it from chronicle_events."""
    return StoredEvent(
        originator_id=UUID(row["originator_id"]),
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=row["state"].encode("utf-8"),
    )


def loaded(rows):
    """Today's events of the fixture's rows, in their stored order."""
    mapper = Chronicle().mapper
    return [mapper.to_domain_event(stored(row)) for row in rows]


def from_events():
    app = Chronicle()
    app.recorder.insert_events([stored(row) for row in V1["events"] + V2["events"]])
    return app


def from_snapshots():
    """An application holding the snapshots alone: loading can only come from them."""
    app = Chronicle()
    rows = V1["snapshots"] + V2["snapshots"]
    app.snapshots.recorder.insert_events([stored(row) for row in rows])
    return app


def test_every_pinned_event_type_has_a_stored_event_in_a_golden_fixture():
    stored_topics = {
        row["topic"] for path in FIXTURES for row in json.loads(path.read_text())["events"]
    }
    events = {topic for topic, cls in TOPICS.items() if issubclass(cls, Aggregate.Event)}

    assert events - stored_topics == set(), "store one event of each new type in tests/golden/"


@pytest.mark.parametrize(
    ("row", "metadata"),
    [
        pytest.param(row, metadata, id=f"{row['topic']}@{row['originator_version']}")
        for rows, metadata in [(V1["events"], METADATA), (V2["events"], METADATA_V2)]
        for row in rows
    ],
)
def test_each_stored_event_loads_as_its_pinned_class_with_its_metadata(row, metadata):
    (event,) = loaded([row])

    assert type(event) is TOPICS[row["topic"]]
    assert (event.originator_id, event.originator_version) == (
        UUID(row["originator_id"]),
        row["originator_version"],
    )
    assert event.metadata == metadata


def test_item_events_keep_their_item_index_and_result():
    events = [e for e in loaded(V1["events"]) if isinstance(e, Job.ItemSucceeded | Job.ItemFailed)]

    assert [(e.originator_id, e.item_index, e.callback_key) for e in events] == [
        (JOB_DONE, 0, "cb-0"),
        (JOB_DONE, 1, "cb-1"),
        (JOB_DONE, 2, "cb-2"),
        (JOB_STALLED, 1, "cb-3"),
    ]
    assert (events[0].result_key, events[1].error, events[2].error) == (
        "results/0",
        "gpu fell over",
        "lease expired",
    )


def test_rule_params_keep_their_types_and_text():
    created = next(e for e in loaded(V1["events"]) if isinstance(e, Rule.Created))

    assert created.params == {"strength": 0.5, "upscale": True, "label": "한글", "n": 3}
    assert [type(v) for v in created.params.values()] == [float, bool, str, int]
    assert created.user_id == USER


@pytest.fixture(params=["events", "snapshots"])
def golden(request):
    """The v1 aggregates rebuilt by replaying their events, or loaded from their snapshots."""
    return from_events() if request.param == "events" else from_snapshots()


def test_credits_rebuild_with_balance_reservations_and_settled_jobs(golden):
    credits = golden.repository.get(USER)

    assert isinstance(credits, UserCredits) and credits.version == 11
    assert (credits.plan_name, credits.available, credits.reserved) == ("pro", 120, 20)
    assert credits.active_jobs == 1 and credits.rule_ids == [str(RULE_KEPT)]
    credits.commit(str(JOB_DONE), 10)  # settled before: each repeat records nothing
    credits.rollback(str(JOB_CANCELED))
    assert credits.collect_events() == []
    with pytest.raises(ReservationSettled):
        credits.reserve(str(JOB_DONE), 30)
    credits.commit(str(JOB_STALLED), 0)
    assert (credits.available, credits.active_jobs) == (140, 0)


def test_a_finished_job_rebuilds_with_its_counts_and_callback_keys(golden):
    job = golden.repository.get(JOB_DONE)

    assert isinstance(job, Job) and job.version == 8
    assert (job.status, job.user_id, job.item_count, job.reserved) == ("done", USER, 3, 30)
    assert (job.succeeded_items, job.failed_items, job.consumed_credits) == (1, 2, 10)
    assert job.finished_at is not None and job.finished_at >= job.started_at
    job.record_item_result(0, "succeeded", "cb-0", result_key="results/0")  # a repeat
    assert job.collect_events() == []
    with pytest.raises(IdempotencyKeyReused):
        job.record_item_result(2, "succeeded", "cb-0")


def test_a_canceled_and_a_stalled_job_rebuild_with_their_reasons(golden):
    canceled, stalled = golden.repository.get(JOB_CANCELED), golden.repository.get(JOB_STALLED)

    assert (canceled.status, canceled.reason, canceled.consumed_credits) == (
        "canceled",
        "changed my mind",
        0,
    )
    assert (stalled.status, stalled.reason, stalled.succeeded_items) == ("failed", "stalled", 1)
    stalled.record_item_result(1, "succeeded", "cb-3")  # a repeat of the recorded callback
    assert stalled.collect_events() == []


def test_rules_rebuild_updated_deleted_and_kept(golden):
    rule, kept = golden.repository.get(RULE), golden.repository.get(RULE_KEPT)

    assert (rule.name, rule.params, rule.deleted, rule.version) == (
        "night run v2",
        {"strength": 0.75},
        True,
        3,
    )
    assert (kept.name, kept.preset, kept.params, kept.deleted) == ("kept", "standard", {}, False)
    assert rule.user_id == kept.user_id == USER


def test_a_test_document_rebuilds_with_its_images_published_and_who_saved_it(golden):
    test = golden.repository.get(TEST)

    assert isinstance(test, TestDocument) and test.version == 8
    assert (test.published, test.deleted, test.last_saved_by) == (True, False, "golden")
    assert test.document["title"] == "여행 성향 테스트 v2"
    assert test.document["thumbnail"] == "images/thumb.webp"
    assert test.document["questions"][1]["image"] == "images/q1.png"
    assert test.document["results"]["INFP"]["image"] == "images/infp.jpg"
    assert test.last_saved_at is not None and test.last_saved_at == test.modified_on
    test.attach_image("results.INFP.image", "images/infp.jpg")  # attached before: nothing new
    test.publish()
    assert test.collect_events() == []


def test_a_deleted_test_document_rebuilds_deleted(golden):
    deleted = golden.repository.get(TEST_DELETED)

    assert (deleted.version, deleted.deleted, deleted.document["title"]) == (2, True, "지운 테스트")
    with pytest.raises(NotFound):
        deleted.publish()


def test_a_take_rebuilds_with_its_test_version_and_type(golden):
    take = golden.repository.get(TAKE)

    assert isinstance(take, TestTake)
    assert (take.test_id, take.test_version, take.mbti) == (TEST, 8, "INFP")


CHAT = json.loads((GOLDEN / "events_v5_chat.json").read_text(encoding="utf-8"))
ROOM = UUID("00000000-0000-4000-8000-0000000000e1")


@pytest.mark.parametrize("kind", ["events", "snapshots"])
def test_a_chat_room_rebuilds_with_its_members_messages_and_closing(kind):
    app = Chronicle()
    recorder = app.recorder if kind == "events" else app.snapshots.recorder
    recorder.insert_events([stored(row) for row in CHAT[kind]])

    room = app.repository.get(ROOM)

    assert (room.name, room.private, room.posts_per_window, room.closed) == (
        "여행 이야기",
        False,
        50,
        True,
    )
    assert room.members == ["00000000-0000-4000-8000-0000000000e2"]
    assert len(room.senders) == 2 and len(room.deleted) == 1


REPLIES = json.loads((GOLDEN / "events_v6_assistant_reply.json").read_text(encoding="utf-8"))
ASSISTANT_ROOM = UUID("00000000-0000-4000-8000-0000000000f1")


@pytest.mark.parametrize("kind", ["events", "snapshots"])
def test_a_room_rebuilds_with_the_assistants_replies_each_once(kind):
    app = Chronicle()
    recorder = app.recorder if kind == "events" else app.snapshots.recorder
    recorder.insert_events([stored(row) for row in REPLIES[kind]])

    room = app.repository.get(ASSISTANT_ROOM)
    asked = [UUID(m) for m, sender in room.senders.items() if sender != "assistant"][:2]

    assert room.assistant and room.private
    assert len(room.senders) == 5 and all(room.is_answered(m) for m in asked)
    assert room.answer(asked[0], "anything", "complete") is not None
    assert not room.collect_events()  # recorded once: answering again changes nothing


def test_messages_stored_before_the_assistant_never_ask_it():
    app = Chronicle()
    app.recorder.insert_events([stored(row) for row in CHAT["events"]])

    events = list(app.events.get(ROOM))

    assert events[0].assistant is False and app.repository.get(ROOM).assistant is False
    assert [e.asks_assistant for e in events if type(e).__name__ == "Posted"] == [False, False]


def test_a_room_from_a_snapshot_before_assistant_rooms_is_no_assistant_room():
    app = Chronicle()
    app.snapshots.recorder.insert_events([stored(row) for row in CHAT["snapshots"]])

    room = app.repository.get(ROOM)

    assert room.assistant is False


def test_a_file_attached_to_a_message_loads_on_both_sides():
    app = Chronicle()
    app.recorder.insert_events([stored(row) for row in REPLIES["events"]])

    [photo] = [e for e in app.events.get(ASSISTANT_ROOM) if getattr(e, "attachment", None)]
    session = app.repository.get(UUID("00000000-0000-4000-8000-0000000000f3"))

    assert photo.attachment["content_type"] == "image/png" and photo.attachment["size"] == 2**20
    assert session.messages == [str(photo.message_id)]
