"""The history's fast path (stored JSON read directly) gives exactly the mapper's answer."""

import json
import re
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import resolve_topic

from bench.historydata import clone_rows
from eventstore.history import decode, history_mapper
from eventstore.storedstate import EventClasses, plain_event

GOLDEN = Path(__file__).parents[1] / "golden"
GOLDEN_ROWS = [
    (UUID(row["originator_id"]), row["originator_version"], row["topic"], row["state"].encode())
    for path in sorted(GOLDEN.glob("events_v*.json"))
    for row in json.loads(path.read_text(encoding="utf-8"))["events"]
]
STAMP = {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05.000006+00:00"}
OWNER = UUID("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")
WHO = {"actor": "user:ann", "correlation_id": "req-1", "causation_id": "cmd-1"}


def both_paths(originator_id, version, topic, state):
    """The event through the fast path (where it applies) and through the mapper alone."""
    mapper = history_mapper()
    fast = decode(mapper, 9, originator_id, version, topic, state, EventClasses())
    slow = decode(mapper, 9, originator_id, version, topic, state)
    return fast, slow


@pytest.mark.parametrize("row", GOLDEN_ROWS, ids=lambda row: f"{row[2]}-v{row[1]}")
def test_every_golden_event_reads_the_same_on_both_paths(row):
    fast, slow = both_paths(*row)
    assert fast == slow


def test_every_event_of_the_bench_log_reads_the_same_on_both_paths():
    rows = list(clone_rows(200))
    assert {topic.rpartition(":")[2] for _, _, topic, _ in rows} >= {
        "UserCredits.Granted",
        "Job.Created",
        "Job.ItemSucceeded",
        "TestDocument.Saved",
    }
    for row in rows:
        fast, slow = both_paths(*row)
        assert fast == slow


def test_only_old_class_versions_and_long_digit_runs_need_the_mapper():
    classes = EventClasses()
    for _, _, topic, state in [*GOLDEN_ROWS, *clone_rows(200)]:
        current = getattr(resolve_topic(topic), "class_version", 1)
        old = json.loads(state).get("class_version", 1) != current
        long_number = re.search(rb"[0-9]{19}", state) is not None  # the golden ids: 0000...0001
        assert (plain_event(classes, topic, state) is None) == (old or long_number), topic


def test_an_old_class_version_goes_through_the_mapper_and_its_upcaster():
    state = {"timestamp": STAMP, "metadata": WHO, "amount": 5, "reason": "welcome"}
    topic = "domain.usercredits:UserCredits.Granted"
    stored = json.dumps(state).encode()
    assert plain_event(EventClasses(), topic, stored) is None
    fast, slow = both_paths(uuid4(), 2, topic, stored)
    assert fast == slow and fast.data["source"] == "admin"


def test_nested_ids_decimals_and_times_unwrap_as_the_mapper_and_json_ready_would():
    params = {
        "owner": {"_type_": "uuid_hex", "_data_": OWNER.hex},
        "price": {"_type_": "decimal_str", "_data_": "1.50"},
        "runs": [{"at": STAMP, "tags": ["a", {"_type_": "decimal_str", "_data_": "2"}]}],
        "_type_": "not a wrapper (three keys)",
    }
    state = {"timestamp": STAMP, "metadata": WHO, "user_id": params["owner"]}
    state |= {"name": "n", "preset": "portrait", "params": params}
    stored = json.dumps(state).encode()
    topic = "domain.rule:Rule.Created"
    assert plain_event(EventClasses(), topic, stored) is not None
    fast, slow = both_paths(uuid4(), 1, topic, stored)
    assert fast == slow
    assert fast.data["params"]["owner"] == str(OWNER)


@pytest.mark.parametrize(
    "state",
    [
        {"timestamp": STAMP, "metadata": WHO, "odd": {"_type_": "no_such_type", "_data_": 1}},
        {"timestamp": STAMP, "metadata": {"actor": {"_type_": "uuid_hex", "_data_": "00"}}},
        {"timestamp": "2026-01-02T03:04:05+00:00", "metadata": WHO},
        {"timestamp": STAMP, "metadata": WHO, "text": "\ud800"},
        ["not", "an", "object"],
    ],
    ids=["unknown-wrapped-kind", "wrapped-metadata", "bare-timestamp", "surrogate", "list"],
)
def test_a_state_the_fast_path_does_not_know_is_left_to_the_mapper(state):
    topic = "domain.rule:Rule.Deleted"
    stored = json.dumps(state).encode()
    assert plain_event(EventClasses(), topic, stored) is None
    fast, slow = both_paths(uuid4(), 3, topic, stored)
    assert fast == slow


def test_an_unknown_topic_and_json_orjson_refuses_are_left_to_the_mapper():
    state = {"timestamp": STAMP, "metadata": WHO, "big": 2**70}
    stored = json.dumps(state).encode()
    assert plain_event(EventClasses(), "gone:Thing.Done", stored) is None
    assert plain_event(EventClasses(), "domain.rule:Rule.Deleted", stored) is None
    fast, slow = both_paths(uuid4(), 3, "domain.rule:Rule.Deleted", stored)
    assert fast == slow and fast.data == {"big": 2**70}
