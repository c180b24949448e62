"""A large, realistic event log written fast: real stored events, cloned, COPYed into the log.

Going through the application would take an hour for a million events; this takes seconds.
A few real aggregates (a user's credits, a job, now and then a test document) are run once on
the library's in-memory store and stored by the application's own mapper, so every row is in
exactly the shape Chronicle stores. Each row becomes a template whose ids, timestamp, actor and
correlation id are filled in per clone, and the clones are COPYed into ``chronicle_events``
(the table's sequence numbers them, as an insert would). One grant in twenty is stored in the
old shape (``UserCredits.Granted`` class_version 1, without ``source``), so readers meet the
upcaster as they would on a real, older log.

    from bench.historydata import generate_events

    head = generate_events(dsn, 1_000_000, seed=0)
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import psycopg

from domain.base import recording_metadata
from domain.job import Job
from domain.testdocument import TestDocument
from domain.usercredits import UserCredits
from eventstore.application import Chronicle
from eventstore.history import EVENTS_TABLE

# Placeholders run through the template scenario and are replaced in every clone.
USER, JOB, TEST = (UUID(f"00000000-0000-4000-8000-00000000000{n}") for n in (1, 2, 3))
ACTOR, CORRELATION, CAUSATION = "actor-slot", "correlation-slot", "causation-slot"
ADMIN = "admin:ann"  # grants and test documents: an actor with many events, as in production
ACTORS = {"admin": ADMIN, "worker": "worker:gpu-1"}  # by request; the rest are the user's own
TEST_EVERY = 10  # one story in ten also edits and publishes a test document
OLD_GRANT_EVERY = 20  # one grant in twenty is stored in the old shape
START = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(milliseconds=20)
STAMP = re.compile(rb'"timestamp":\{"_type_":"datetime_iso","_data_":"[^"]+"\}')

Row = tuple[UUID, int, str, bytes]
# (aggregate placeholder, topic, version, state with %(slot)s placeholders, request)
Template = tuple[UUID, str, int, bytes, str]


def generate_events(dsn: str, count: int, *, seed: int = 0) -> int:
    """Append ``count`` events to the log on ``dsn``; the log's head position after them.

    Ids come from ``seed``: give each call on the same log its own seed (the same seed makes
    the same ids again, which the log refuses). Times start at 2026-01-01, 20 ms apart.
    """
    rows = clone_rows(count, seed=seed)
    with psycopg.connect(dsn) as conn:
        with conn.cursor().copy(
            f"COPY {EVENTS_TABLE} (originator_id, originator_version, topic, state) "
            "FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "int8", "text", "bytea"])
            for row in rows:
                copy.write_row(row)
        head = conn.execute(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}")
        position = int(head.fetchone()[0])  # type: ignore[index]
        conn.commit()
        # Statistics, as autovacuum would gather them on a log that grew over months: without
        # them the planner sorts the rest of the log for each page a reader asks for.
        conn.execute(f"ANALYZE {EVENTS_TABLE}")
        conn.commit()
    return position


def clone_rows(count: int, *, seed: int = 0) -> Iterator[Row]:
    """``count`` stored rows: stories of fresh ids, each story's events in version order."""
    stories = _stories()
    rng = random.Random(seed)
    moment = START
    written, story = 0, 0
    while written < count:
        kind = "with_test" if story % TEST_EVERY == 0 else "plain"
        old = story % OLD_GRANT_EVERY == 0
        user = _uuid(rng)  # a new user each story: its credits open at version 1
        ids = {USER: user, JOB: _uuid(rng), TEST: _uuid(rng)}
        slots = {p.hex.encode(): i.hex.encode() for p, i in ids.items()}
        slots |= {str(p).encode(): str(i).encode() for p, i in ids.items()}
        for aggregate, topic, version, state, request in stories[kind, old]:
            if written == count:
                return
            correlation = f"req-{story}-{request}".encode()
            fields = {
                **slots,
                b"actor": ACTORS.get(request, f"user:{user}").encode(),
                b"correlation": correlation,
                b"causation": correlation,
                b"now": moment.isoformat().encode(),
            }
            yield ids[aggregate], version, topic, state % fields
            moment += STEP
            written += 1
        story += 1


def _uuid(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


def _stories() -> dict[tuple[str, bool], list[Template]]:
    """Every kind of story (with a test or not, with an old grant or not) as templates."""
    mapper = Chronicle(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).mapper
    templates: dict[tuple[str, bool], list[Template]] = {}
    for with_test in (False, True):
        for old in (False, True):
            events = []
            for placeholder, request, aggregate_events in _scenario(with_test):
                for event in aggregate_events:
                    stored = mapper.to_stored_event(event)
                    state = _template(stored.state)
                    if old and stored.topic.endswith("UserCredits.Granted"):
                        state = _old_grant(state)
                    version = stored.originator_version
                    events.append((placeholder, stored.topic, version, state, request))
            templates["with_test" if with_test else "plain", old] = events
    return templates


def _scenario(with_test: bool) -> list[tuple[UUID, str, Sequence[Any]]]:
    """The template story: a user buys credits, runs a two-item job; an admin edits a test."""
    metadata = {"actor": ACTOR, "correlation_id": CORRELATION, "causation_id": CAUSATION}
    with recording_metadata(metadata):
        credits = UserCredits.open(USER, "pro", 1000)
        credits.grant(100, "top-up of 100", "purchase")
        credits.reserve(str(JOB), 2)
        job = Job.create(JOB, USER, "portrait", 2, 1)
        job.confirm_upload()
        job.execute()
        job.record_item_result(0, "succeeded", "cb-0", result_key=f"results/{JOB}/0")
        job.record_item_result(1, "succeeded", "cb-1", result_key=f"results/{JOB}/1")
        credits.commit(str(JOB), 2)
        test = TestDocument.create(TEST, _document("여행 성향 테스트"))
        test.save(_document("여행 성향 테스트 (고친 판)"))
        test.publish()
    return _split(credits, job, test, with_test)


def _split(
    credits: UserCredits, job: Job, test: TestDocument, with_test: bool
) -> list[tuple[UUID, str, Sequence[Any]]]:
    """The events of the story in log order, each with the request (user or admin) behind it."""
    credit_events = credits.collect_events()
    job_events = job.collect_events()
    story: list[tuple[UUID, str, Sequence[Any]]] = [
        (USER, "signup", credit_events[:1]),
        (USER, "admin", credit_events[1:2]),
        (JOB, "job", job_events[:1]),
        (USER, "job", credit_events[2:3]),
        (JOB, "upload", job_events[1:3]),
        (JOB, "worker", job_events[3:]),
        (USER, "worker", credit_events[3:]),
    ]
    if with_test:
        story.append((TEST, "admin", test.collect_events()))
    return story


def _template(state: bytes) -> bytes:
    """A stored state with its ids, metadata and timestamp made %-placeholders."""
    state = state.replace(b"%", b"%%")
    state = STAMP.sub(b'"timestamp":{"_type_":"datetime_iso","_data_":"%(now)s"}', state)
    for placeholder in (USER, JOB, TEST):
        state = state.replace(placeholder.hex.encode(), b"%(" + placeholder.hex.encode() + b")s")
        state = state.replace(str(placeholder).encode(), b"%(" + str(placeholder).encode() + b")s")
    for slot, name in ((ACTOR, "actor"), (CORRELATION, "correlation"), (CAUSATION, "causation")):
        state = state.replace(slot.encode(), b"%(" + name.encode() + b")s")
    return state


def _old_grant(state: bytes) -> bytes:
    """A grant as class_version 1 stored it: no ``source``, no ``class_version``."""
    state = re.sub(rb',"source":"[^"]*"', b"", state)
    return state.replace(b',"class_version":2', b"")


def _document(title: str) -> dict[str, object]:
    """A small valid test: four questions (one per axis), every result type."""
    from domain.mbti import AXES, TYPES

    questions = [
        {
            "text": f"{axis} 질문",
            "choices": [
                {"text": axis[0], "axis": axis, "pole": axis[0], "weight": 1},
                {"text": axis[1], "axis": axis, "pole": axis[1], "weight": 1},
            ],
        }
        for axis in AXES
    ]
    results = {mbti: {"title": f"{mbti} 유형", "description": "설명"} for mbti in TYPES}
    return {"title": title, "tags": ["여행", "travel"], "questions": questions, "results": results}
