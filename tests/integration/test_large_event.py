"""One event of several hundred KB through the executor and the recorder, and back.

This is the recorder's reason to exist: the library's pipeline-mode insert hangs on such an
event (psycopg #685). Each step runs under a deadline, so that a hang fails the test.
"""

from __future__ import annotations

import threading
from uuid import UUID, uuid4

import pytest

from domain.base import Aggregate
from eventstore.application import open_application
from eventstore.executor import CommandExecutor

TEXT = "가나다 large event " * 30_000  # about 600 KB as UTF-8
DEADLINE = 60.0


class Note(Aggregate):
    """A test-only aggregate whose creation carries one long text."""

    class Created(Aggregate.Created):
        text: str

    def __init__(self, text: str) -> None:
        self.text = text

    @classmethod
    def write(cls, note_id: UUID, text: str) -> Note:
        return cls._create(cls.Created, id=note_id, text=text)


def within_deadline(step, what):
    """``step()``'s value; the test fails (instead of hanging) if it takes over DEADLINE."""
    box = {}

    def run():
        try:
            box["value"] = step()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(DEADLINE)
    if thread.is_alive():
        pytest.fail(f"{what} did not finish within {DEADLINE}s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_an_event_of_600_kb_is_saved_and_loads_back(app, clean_dsn):
    assert len(TEXT.encode()) > 600_000
    note_id = uuid4()

    def write(aggregates):
        note = Note.write(note_id, TEXT)
        aggregates.add(note)
        return note.version

    executor = CommandExecutor(app, timeout=DEADLINE)
    outcome = within_deadline(lambda: executor.execute(write), "the command")
    within_deadline(executor.close, "closing the executor")  # a hung writer fails, not blocks
    fresh = open_application(clean_dsn, pool_size=1)
    try:
        loaded = within_deadline(lambda: fresh.repository.get(note_id), "loading it back")
    finally:
        fresh.close()
    assert outcome.result == 1 and outcome.position is not None
    assert loaded.text == TEXT


def test_a_rebuild_pipelines_events_of_600_kb_without_hanging(app, clean_dsn):
    from projections.engine.rebuild import rebuild
    from projections.registry import projection_named

    executor = CommandExecutor(app, timeout=DEADLINE)
    for _ in range(3):
        within_deadline(
            lambda: executor.execute(lambda a: a.add(Note.write(uuid4(), TEXT))), "save"
        )
    within_deadline(executor.close, "closing the executor")

    done = within_deadline(
        lambda: rebuild(clean_dsn, app, projection_named("audit_log"), batch_size=2), "rebuild"
    )

    assert done.applied == 3
    with app.recorder.datastore.get_connection() as conn:
        rows = conn.execute("SELECT data->>'text' AS text FROM audit_log").fetchall()
    assert [row["text"] for row in rows] == [TEXT] * 3
