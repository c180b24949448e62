"""Many writer processes appending at once: a reader of ``notification_id > position`` skips none.

Readers rely on commit order being notification order (the append function locks the table
until its statement commits) and on one NOTIFY per append. Without the lock, a writer that
takes an id and commits after a later id has been read is passed over for good; this test
follows the log in small pages while six processes append, and compares with the final table.
"""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg

from projections.engine.watcher import EVENTS_CHANNEL

WRITERS = 6
APPENDS = 150
PAGE = 7


def start_writers(dsn: str) -> list[subprocess.Popen[str]]:
    """The writer processes, each loaded and waiting for the word to go."""
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.integration.appender", dsn, str(n), str(APPENDS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready", (
            writer.stderr.read() if writer.stderr else ""
        )
    return writers


def follow(recorder, listener, writers) -> tuple[list[int], int]:
    """Read the log in pages after the last position seen until every writer has exited.

    Returns the positions read, in order, and how many notifications woke the reader.
    """
    seen: list[int] = []
    notified = 0
    while True:
        finished = all(w.poll() is not None for w in writers)  # before the read that ends it
        page = recorder.select_notifications(start=(seen[-1] if seen else 0) + 1, limit=PAGE)
        seen.extend(n.id for n in page)
        if page:
            continue
        if finished:
            return seen, notified
        notified += sum(1 for _ in listener.notifies(timeout=1.0, stop_after=1))


def test_a_reader_of_pages_sees_every_event_of_concurrent_writer_processes_once(app, clean_dsn):
    listener = psycopg.connect(clean_dsn, autocommit=True)
    try:
        listener.execute(f"LISTEN {EVENTS_CHANNEL}")
        writers = start_writers(clean_dsn)
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        seen, notified = follow(app.recorder, listener, writers)
        tallies = []
        for writer in writers:
            out, err = writer.communicate(timeout=600)
            assert writer.returncode == 0, err[-3000:]
            tallies.append(json.loads(out))
        missing = WRITERS * APPENDS - notified
        notified += (
            sum(1 for _ in listener.notifies(timeout=10, stop_after=missing)) if missing else 0
        )
        with psycopg.connect(clean_dsn) as conn:
            table = [
                r[0]
                for r in conn.execute("SELECT notification_id FROM chronicle_events ORDER BY 1")
            ]
            (outcomes,) = conn.execute("SELECT count(*) FROM command_idempotency").fetchone()
    finally:
        listener.close()
    assert seen == table  # each committed event read once, in order, none passed over
    assert len(table) == sum(t["events"] for t in tallies)
    assert outcomes == sum(t["outcomes"] for t in tallies)
    assert notified == WRITERS * APPENDS  # one NOTIFY per append
