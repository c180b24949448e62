"""History for analysts on real PostgreSQL: read_events and `chronicle events export`."""

import json
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import psycopg
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from api.cli import cli
from domain.commands import job as jobs
from domain.commands import rule as rules
from domain.commands import usercredits as credits
from eventstore.export import write_parquet
from eventstore.history import read_events
from tests.conftest import TEST_SECRET
from tests.fakes import SHIPPED

ALICE = {"actor": "user:alice", "correlation_id": "req-1", "causation_id": "cmd-1"}
ADMIN = {"actor": "admin:root", "correlation_id": "req-2", "causation_id": "cmd-2"}
GONE_TOPIC = "domain.vanished:Vanished.Happened"


def make_history(executor) -> dict[str, UUID]:
    """Events of three aggregates (UserCredits, Job, Rule) by two actors; the ids used."""
    user, job, rule = uuid4(), uuid4(), uuid4()
    executor.execute(credits.OpenAccount(user, "free", 10), metadata=ADMIN)
    executor.execute(credits.GrantCredits(user, 5, "gift"), metadata=ADMIN)
    executor.execute(jobs.CreateJob(job, user, "upscale-4x", 3, SHIPPED), metadata=ALICE)
    executor.execute(credits.CommitCredits(user, str(job), 4), metadata=ALICE)
    executor.execute(
        rules.CreateRule(rule, user, "sharp", "portrait", {"k": 1}, SHIPPED), metadata=ALICE
    )
    return {"user": user, "job": job, "rule": rule}


def stored_log(dsn):
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT notification_id, topic, originator_id, originator_version "
            "FROM chronicle_events ORDER BY notification_id"
        ).fetchall()


def insert_gone_event(dsn) -> int:
    """A stored event whose class no longer exists anywhere; its position."""
    state = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2026-01-02T03:04:05+00:00"},
        "metadata": {"actor": "user:old", "correlation_id": "c-old", "causation_id": ""},
        "note": "kept",
    }
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "INSERT INTO chronicle_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, 1, %s, %s) RETURNING notification_id",
            (uuid4(), GONE_TOPIC, json.dumps(state).encode()),
        ).fetchone()[0]


def export(dsn, *args):
    env = {"CHRONICLE_DATABASE_URL": dsn, "CHRONICLE_JWT_SECRET": TEST_SECRET}
    result = CliRunner().invoke(cli, ["events", "export", *args], env=env)
    assert result.exit_code == 0, result.output
    return result


def test_read_events_gives_the_whole_log_in_order_with_metadata_and_data(executor, clean_dsn):
    ids = make_history(executor)
    events = list(read_events(clean_dsn))
    log = stored_log(clean_dsn)
    assert [(e.position, e.topic, e.aggregate_id, e.version) for e in events] == log
    assert {e.aggregate_type for e in events} == {"UserCredits", "Job", "Rule"}
    grant = next(e for e in events if e.event_type == "UserCredits.Granted")
    assert (grant.actor, grant.correlation_id, grant.causation_id) == (
        "admin:root",
        "req-2",
        "cmd-2",
    )
    assert grant.data == {"amount": 5, "reason": "gift", "source": "admin"}
    created = next(e for e in events if e.event_type == "Job.Created")
    assert created.data["user_id"] == str(ids["user"]) and created.data["preset"] == "upscale-4x"
    assert created.recorded_at is not None and created.recorded_at.tzinfo is not None


def test_a_page_smaller_than_the_log_gives_every_event_once_in_order(executor, clean_dsn):
    make_history(executor)
    positions = [e.position for e in read_events(clean_dsn, page_size=2)]
    assert positions == [row[0] for row in stored_log(clean_dsn)] and len(positions) > 4


def test_filters_select_by_type_aggregate_position_and_time(executor, clean_dsn):
    make_history(executor)
    log = stored_log(clean_dsn)
    reserved = list(read_events(clean_dsn, event_types=["UserCredits.Reserved", "Rule.Created"]))
    assert [e.event_type for e in reserved] == ["UserCredits.Reserved", "Rule.Created"]
    assert {e.aggregate_type for e in read_events(clean_dsn, aggregate_type="Job")} == {"Job"}
    window = list(read_events(clean_dsn, from_position=log[1][0], to_position=log[3][0]))
    assert [e.position for e in window] == [row[0] for row in log[1:4]]
    insert_gone_event(clean_dsn)  # recorded in January 2026: before every other event
    cut = datetime(2026, 1, 3, tzinfo=UTC)
    assert [e.topic for e in read_events(clean_dsn, until=cut)] == [GONE_TOPIC]
    assert len(list(read_events(clean_dsn, since=cut))) == len(log)
    with pytest.raises(ValueError, match="time zone"):
        next(read_events(clean_dsn, since=datetime(2026, 1, 1)))


def test_jsonl_export_equals_the_log(executor, clean_dsn, tmp_path):
    make_history(executor)
    export(clean_dsn, "-o", str(tmp_path / "log.jsonl"))
    rows = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    expected = list(read_events(clean_dsn))
    assert [(r["position"], r["topic"], r["aggregate_id"], r["version"]) for r in rows] == [
        (p, t, str(i), v) for p, t, i, v in stored_log(clean_dsn)
    ]
    assert [(r["event_type"], r["actor"], r["correlation_id"], r["data"]) for r in rows] == [
        (e.event_type, e.actor, e.correlation_id, e.data) for e in expected
    ]
    assert rows[0]["recorded_at"] == expected[0].recorded_at.isoformat()


def test_parquet_export_reads_back_equal_to_the_log(executor, clean_dsn, tmp_path):
    make_history(executor)
    export(clean_dsn, "--format", "parquet", "-o", str(tmp_path / "log.parquet"))
    table = pq.read_table(tmp_path / "log.parquet").to_pylist()
    expected = list(read_events(clean_dsn))
    assert [(r["position"], r["topic"], r["version"]) for r in table] == [
        (p, t, v) for p, t, _, v in stored_log(clean_dsn)
    ]
    assert [(r["aggregate_type"], r["actor"], json.loads(r["data"])) for r in table] == [
        (e.aggregate_type, e.actor, e.data) for e in expected
    ]
    assert table[0]["recorded_at"] == expected[0].recorded_at
    assert not any(name.startswith("data_") for name in table[0])  # several types: JSON only


def test_parquet_is_written_in_row_groups_while_the_log_is_paged(executor, clean_dsn, tmp_path):
    make_history(executor)
    path = tmp_path / "groups.parquet"
    count = write_parquet(read_events(clean_dsn, page_size=2), path, row_group_size=3)
    assert count == len(stored_log(clean_dsn)) and count > 6
    assert pq.ParquetFile(path).num_row_groups == -(-count // 3)
    assert pq.read_table(path).column("position").to_pylist() == [
        r[0] for r in stored_log(clean_dsn)
    ]


def test_parquet_of_one_event_type_has_typed_data_columns(executor, clean_dsn, tmp_path):
    ids = make_history(executor)
    path = tmp_path / "jobs.parquet"
    export(clean_dsn, "--event-type", "Job.Created", "-o", str(path))  # format by extension
    rows = pq.read_table(path).to_pylist()
    assert len(rows) == 1 and rows[0]["data_preset"] == "upscale-4x"
    assert (rows[0]["data_item_count"], rows[0]["data_reserved"]) == (3, 6)
    assert rows[0]["data_user_id"] == str(ids["user"])
    assert str(pq.read_schema(path).field("data_item_count").type) == "int64"


def test_dash_writes_filtered_json_lines_to_stdout(executor, clean_dsn):
    make_history(executor)
    result = export(clean_dsn, "-o", "-", "--aggregate-type", "UserCredits")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["event_type"] for r in rows] == [
        "UserCredits.Created",
        "UserCredits.Granted",
        "UserCredits.Reserved",
        "UserCredits.QuotaUsed",  # the job, counted against the day's quota
        "UserCredits.Committed",
        "UserCredits.RuleSlotTaken",
    ]


def test_an_event_whose_class_is_gone_exports_with_its_topic_and_raw_data(
    executor, clean_dsn, tmp_path
):
    make_history(executor)
    position = insert_gone_event(clean_dsn)
    result = export(clean_dsn, "-o", "-")
    gone = [json.loads(line) for line in result.stdout.splitlines()][-1]
    assert (gone["position"], gone["topic"], gone["event_type"]) == (
        position,
        GONE_TOPIC,
        "Vanished.Happened",
    )
    assert (gone["actor"], gone["correlation_id"], gone["data"]) == (
        "user:old",
        "c-old",
        {"note": "kept"},
    )
    assert gone["recorded_at"] == "2026-01-02T03:04:05+00:00"
    export(clean_dsn, "-o", str(tmp_path / "all.parquet"))
    assert pq.read_table(tmp_path / "all.parquet").column("topic").to_pylist()[-1] == GONE_TOPIC


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--since", "yesterday"], "--since"),
        (["--until", "2026-01-01T00:00:00"], "--until"),
        (["--format", "csv"], "--format"),
        (["--format", "parquet"], "Parquet needs a file"),
        (["--event-type", "Job.\x00Created"], "U+0000"),
    ],
)
def test_bad_options_exit_2_naming_the_problem(clean_dsn, args, complaint):
    env = {"CHRONICLE_DATABASE_URL": clean_dsn, "CHRONICLE_JWT_SECRET": TEST_SECRET}
    result = CliRunner().invoke(cli, ["events", "export", "-o", "-", *args], env=env)
    assert result.exit_code == 2 and complaint in result.output


def test_since_and_until_on_the_command_line_select_by_time(executor, clean_dsn):
    make_history(executor)
    insert_gone_event(clean_dsn)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    result = export(clean_dsn, "-o", "-", "--since", "2026-01-03T00:00:00Z", "--until", later)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(stored_log(clean_dsn)) - 1
    assert GONE_TOPIC not in {r["topic"] for r in rows}
