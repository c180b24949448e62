"""History rows without a database: decoding, raw fallbacks, Parquet columns, missing pyarrow."""

import json
import sys
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from typer.testing import CliRunner

from api.cli import cli
from domain.job import Job
from eventstore.decoding import json_ready
from eventstore.export import MissingPyArrow, flat_fields, require_pyarrow
from eventstore.history import decode, history_mapper


def test_a_stored_event_decodes_to_its_own_fields_and_metadata():
    mapper = history_mapper()
    job = Job.create(uuid4(), uuid4(), "portrait", 2, 1)
    stored = mapper.to_stored_event(job.collect_events()[0])
    event = decode(mapper, 7, job.id, 1, stored.topic, stored.state)
    assert (event.position, event.aggregate_type, event.event_type) == (7, "Job", "Job.Created")
    assert event.data == {
        "user_id": str(job.user_id),
        "preset": "portrait",
        "item_count": 2,
        "cost_per_item": 1,
        "reserved": 2,
    }
    assert event.actor == "system" and event.recorded_at == job.created_on


def test_an_old_shape_is_upcast_before_it_is_shown():
    state = {"timestamp": {"_type_": "datetime_iso", "_data_": "2026-01-01T00:00:00+00:00"}}
    state |= {"metadata": {}, "index": 4, "callback_key": "k", "result_key": None}
    topic = "domain.job:Job.ItemSucceeded"
    event = decode(history_mapper(), 1, uuid4(), 3, topic, json.dumps(state).encode())
    assert event.data == {"item_index": 4, "callback_key": "k", "result_key": None}


def test_state_that_is_not_even_the_transcoders_json_still_shows_raw():
    state = b'{"metadata": {"actor": "x"}, "when": {"_type_": "no_such_type", "_data_": 1}}'
    event = decode(history_mapper(), 1, uuid4(), 1, "gone:Thing.Done", state)
    assert (event.event_type, event.actor, event.recorded_at) == ("Thing.Done", "x", None)
    assert event.data == {"when": {"_type_": "no_such_type", "_data_": 1}}


def test_json_ready_turns_ids_and_times_into_text():
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    value = {"id": UUID(int=1), "at": moment, "tags": ("a",)}
    assert json_ready(value) == {"id": str(UUID(int=1)), "at": moment.isoformat(), "tags": ["a"]}


def test_flat_columns_are_the_scalar_fields_of_the_event_class():
    assert flat_fields("Job.ItemSucceeded") == {
        "item_index": int,
        "callback_key": str,
        "result_key": str,
    }
    assert "params" not in flat_fields("Rule.Created")  # a dict: in the JSON column only
    assert flat_fields("Nowhere.Happened") == {}


def test_parquet_without_pyarrow_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(MissingPyArrow, match=r"pip install chronicle\[analytics\]"):
        require_pyarrow()
    result = CliRunner().invoke(cli, ["events", "export", "-o", "x.parquet"])
    assert result.exit_code == 2 and "chronicle[analytics]" in result.output
