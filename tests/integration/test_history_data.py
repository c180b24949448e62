"""The bench's generated log on PostgreSQL: its aggregates load, both decoding paths agree."""

import psycopg

from bench.historydata import ADMIN, generate_events
from domain.job import Job
from domain.usercredits import UserCredits
from eventstore.history import read_events
from eventstore.storedstate import EventClasses

COUNT = 500


def test_generated_events_are_numbered_from_the_head_and_load_as_aggregates(app, clean_dsn):
    head = generate_events(clean_dsn, COUNT, seed=3)
    with psycopg.connect(clean_dsn) as conn:
        first_user, first_job = conn.execute(
            "SELECT "
            "(SELECT originator_id FROM chronicle_events WHERE topic LIKE '%UserCredits.Created'"
            " ORDER BY notification_id LIMIT 1), "
            "(SELECT originator_id FROM chronicle_events WHERE topic LIKE '%Job.Created'"
            " ORDER BY notification_id LIMIT 1)"
        ).fetchone()
    assert head == COUNT
    user = app.repository.get(first_user)
    job = app.repository.get(first_job)
    assert isinstance(user, UserCredits) and isinstance(job, Job)
    assert (user.available, user.reserved) == (1098, 0)  # 1000 + 100 granted - 2 consumed
    assert job.user_id == first_user and job.status == "done"
    assert generate_events(clean_dsn, 10, seed=4) == COUNT + 10  # appends after the head


def test_the_generated_log_reads_the_same_through_the_mapper_alone(clean_dsn, monkeypatch):
    generate_events(clean_dsn, COUNT)
    fast = list(read_events(clean_dsn, page_size=97))
    monkeypatch.setattr(EventClasses, "get", lambda self, topic: None)  # every event: the mapper
    slow = list(read_events(clean_dsn, page_size=97))
    assert fast == slow and len(fast) == COUNT
    assert {e.actor for e in fast} >= {ADMIN, "worker:gpu-1"}
    sources = [e.data["source"] for e in fast if e.event_type == "UserCredits.Granted"]
    assert sources.count("admin") >= 2  # stored without a source (class_version 1), upcast
    assert sources.count("purchase") > sources.count("admin")
