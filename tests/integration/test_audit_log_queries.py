"""The ``audit_log`` read model and the audit queries on real PostgreSQL: one row per event,
filtered newest-first pages by index, an event whose class is gone, and text replaced."""

import dataclasses
from datetime import UTC, datetime
from uuid import UUID, uuid4

import psycopg
import pytest

from domain.commands import usercredits as credits
from domain.rule import Rule
from eventstore.database import read_pool
from eventstore.decoding import describe_event
from projections.audit.queries import (
    EventFilter,
    events_query,
    list_aggregate_events,
    list_correlated_events,
    list_events,
)
from projections.engine.runner import ProjectionRunner, read_position
from projections.engine.watcher import LogWatcher
from projections.registry import all_projections
from tests.integration.auditlog import insert_retired_event, run
from tests.integration.folds import all_events
from tests.integration.test_projections import head

NAMES = [p.name for p in all_projections()]


@pytest.fixture
def projected(app, clean_dsn):
    """Every projection following the log; call it to wait until they reached the head."""
    watcher = LogWatcher(clean_dsn).start()
    runner = ProjectionRunner(clean_dsn, app, all_projections(), watcher, poll_seconds=0.1)
    runner.start()

    def wait():
        assert watcher.wait_for_position(NAMES, head(clean_dsn), timeout=30)

    yield wait
    runner.stop()
    watcher.stop()


@pytest.fixture
def pool(clean_dsn):
    with read_pool(clean_dsn, size=2, wait_seconds=5) as reads:
        yield reads


def history_of_two_users(executor):
    ann, bob = uuid4(), uuid4()
    run(executor, credits.OpenAccount(ann, "pro", 10), actor="ann", correlation="req-1")
    run(executor, credits.OpenAccount(bob, "free", 3), actor="bob", correlation="req-2")
    run(executor, credits.GrantCredits(ann, 5, "welcome"), actor="admin", correlation="req-3")
    run(executor, credits.ReserveCredits(ann, "job-1", 4), actor="ann", correlation="req-4")
    run(executor, credits.GrantCredits(bob, 2, "gift"), actor="admin", correlation="req-5")
    return ann, bob


def every_row(pool):
    return list_events(pool, EventFilter(), before=None, limit=1000)


def test_every_event_becomes_one_row_with_its_metadata_and_data(executor, app, pool, projected):
    ann, _ = history_of_two_users(executor)
    projected()

    rows = every_row(pool)

    expected = [{"position": p, **describe_event(e)} for p, e in reversed(all_events(app))]
    assert rows == expected
    granted = next(r for r in rows if r["event_type"] == "UserCredits.Granted")
    assert (granted["data"]["amount"], granted["data"]["reason"]) == (2, "gift")
    assert (granted["actor"], granted["correlation_id"], granted["causation_id"]) == (
        "admin",
        "req-5",
        "cause-1",
    )
    assert [r["version"] for r in list_aggregate_events(pool, ann, limit=10)] == [1, 2, 3]


@pytest.mark.parametrize(
    "field, value",
    [
        ("aggregate_type", "UserCredits"),
        ("event_type", "UserCredits.Granted"),
        ("actor", "ann"),
        ("correlation_id", "req-4"),
    ],
)
def test_a_filter_pages_newest_first_through_exactly_its_events(
    executor, pool, projected, field, value
):
    history_of_two_users(executor)
    projected()
    expected = [r["position"] for r in every_row(pool) if r[field] == value]

    seen, before = [], None
    while True:
        page = list_events(pool, EventFilter(**{field: value}), before=before, limit=1)
        if not page:
            break
        seen.append(page[0]["position"])
        before = page[0]["position"]

    assert seen == expected and seen


def test_the_time_range_keeps_events_at_or_after_since_and_before_until(executor, pool, projected):
    history_of_two_users(executor)
    projected()
    rows = every_row(pool)
    middle = rows[2]["recorded_at"]

    newer = list_events(pool, EventFilter(since=middle), before=None, limit=100)
    older = list_events(pool, EventFilter(until=middle), before=None, limit=100)

    assert newer == rows[:3] and older == rows[3:]


def test_an_aggregate_id_filter_and_a_correlation_list_read_in_their_orders(
    executor, pool, projected
):
    ann, _ = history_of_two_users(executor)
    projected()

    ann_rows = list_events(pool, EventFilter(aggregate_id=ann), before=None, limit=100)
    correlated = list_correlated_events(pool, "req-1", limit=100)

    assert [r["version"] for r in ann_rows] == [3, 2, 1]
    assert [(r["aggregate_id"], r["event_type"]) for r in correlated] == [
        (ann, "UserCredits.Created")
    ]


def test_an_event_whose_class_is_gone_shows_its_topic_and_raw_data_and_stops_nothing(
    executor, app, clean_dsn, pool, projected
):
    retired = uuid4()
    insert_retired_event(app, clean_dsn, retired)
    after = run(executor, credits.OpenAccount(uuid4(), "free", 1))
    projected()

    row = list_events(pool, EventFilter(aggregate_id=retired), before=None, limit=10)[0]

    assert (row["topic"], row["resolved"], row["event_type"]) == (
        "domain.retired:Retired.Painted",
        False,
        "Retired.Painted",
    )
    assert row["data"] == {"colour": "blue", "owner": str(retired)}
    assert (row["actor"], row["correlation_id"]) == ("eve", "req-9")
    with psycopg.connect(clean_dsn) as conn:
        states = dict(conn.execute("SELECT name, state FROM projection_position").fetchall())
        assert all(read_position(conn, name) >= after for name in NAMES)
    assert set(states.values()) == {"active"}


def test_text_postgresql_cannot_hold_is_shown_replaced_instead_of_stopping_the_log(
    app, clean_dsn, pool, projected
):
    created = Rule.create(uuid4(), uuid4(), "fine", "portrait", {}).collect_events()[0]
    app.save(dataclasses.replace(created, name="a\x00b", params={"k\x00": ["\x00"]}))
    projected_head = head(clean_dsn)
    watcher = LogWatcher(clean_dsn).start()
    try:
        assert watcher.wait_for_position(["audit_log"], projected_head, timeout=30)
    finally:
        watcher.stop()

    [row] = list_events(pool, EventFilter(event_type="Rule.Created"), before=None, limit=10)

    assert row["data"]["name"] == "a\ufffdb"
    assert row["data"]["params"] == {"k\ufffd": ["\ufffd"]}


def fill_audit_log(dsn, rows=50_000):
    """Synthetic audit rows a minute apart: 100 per type and actor, 10 per aggregate."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            """
            INSERT INTO audit_log
            SELECT n, timestamptz '2026-01-01' + n * interval '1 minute', 'Type' || n %% 500,
                md5((n %% 5000)::text)::uuid, n / 1000 + 1, 'Type' || n %% 500 || '.Done',
                'domain.x:Type.Done', true, 'actor-' || n %% 500, 'req-' || n / 3, '', '{}'
            FROM generate_series(1, %s) AS n
            """,
            (rows,),
        )
        conn.execute("ANALYZE audit_log")


@pytest.mark.parametrize(
    "filters, index",
    [
        (EventFilter(), "audit_log_pkey"),
        (EventFilter(aggregate_type="Type7"), "audit_log_aggregate_type_idx"),
        (
            EventFilter(aggregate_id=UUID("c4ca4238-a0b9-2382-0dcc-509a6f75849b")),
            "audit_log_aggregate_id_idx",
        ),
        (EventFilter(event_type="Type7.Done"), "audit_log_event_type_idx"),
        (EventFilter(actor="actor-7"), "audit_log_actor_idx"),
        (EventFilter(correlation_id="req-700"), "audit_log_correlation_id_idx"),
        (
            EventFilter(
                since=datetime(2026, 1, 10, tzinfo=UTC), until=datetime(2026, 1, 10, 1, tzinfo=UTC)
            ),
            "audit_log_recorded_at_idx",
        ),
    ],
)
def test_each_filter_reads_a_page_through_an_index_never_a_table_scan(clean_dsn, filters, index):
    fill_audit_log(clean_dsn)
    sql, params = events_query(filters, before=40_000, limit=50)

    with psycopg.connect(clean_dsn) as conn:
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, params))

    assert index in plan and "Seq Scan" not in plan, plan
