"""The export subjects of the history bench, each run in a child process of its own.

A child process per run gives each subject its own peak memory (``ru_maxrss`` of that process,
which includes the interpreter and its imports: the COPY baseline shows that floor) and keeps
one run's garbage out of the next. The child times only the work (imports and connecting to
the server come before the clock starts) and prints one JSON line for the parent.

    python -m bench.historyexport SUBJECT DSN OUTPUT_DIR [TO_POSITION]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import psycopg

COPY = "COPY (SELECT …) TO STDOUT"
JSONL = "export JSON Lines"
PARQUET = "export Parquet"
MAPPER = "export JSON Lines, mapper only (before)"
SUBJECTS = (COPY, JSONL, PARQUET, MAPPER)
RAW_ROWS = (
    "COPY (SELECT notification_id, originator_id, originator_version, topic, state "
    "FROM chronicle_events WHERE notification_id <= {to} ORDER BY notification_id) TO STDOUT"
)


@dataclass(frozen=True)
class ExportRun:
    """One run of one subject: how many events, how long, the child's peak memory."""

    subject: str
    events: int
    seconds: float
    peak_mib: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else float("nan")


def run_subject(subject: str, dsn: str, out_dir: Path, to_position: int) -> ExportRun:
    """Run ``subject`` in a child process over the log up to ``to_position``."""
    command = [sys.executable, "-m", "bench.historyexport", subject, dsn, str(out_dir)]
    done = subprocess.run([*command, str(to_position)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{subject} failed:\n{done.stderr[-3000:]}")
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return ExportRun(subject, found["events"], found["seconds"], found["peak_mib"])


def _raw_copy(dsn: str, out_dir: Path, to_position: int) -> int:
    """The baseline: the same rows as PostgreSQL's COPY text, written to a file."""
    rows = 0
    with (
        psycopg.connect(dsn) as conn,
        open(out_dir / "raw.copy", "wb") as out,
        conn.cursor().copy(RAW_ROWS.format(to=int(to_position))) as copy,
    ):
        for block in copy:
            out.write(block)
            rows += bytes(block).count(b"\n")  # COPY text escapes the newlines inside values
    return rows


def _export(subject: str, dsn: str, out_dir: Path, to_position: int) -> int:
    from eventstore import history
    from eventstore.export import write_jsonl, write_parquet

    events = history.read_events(dsn, to_position=to_position)
    if subject == PARQUET:
        return write_parquet(events, out_dir / "log.parquet")
    if subject == MAPPER:  # every event through the mapper, as before the stored-JSON path
        with (
            mock.patch.object(history, "plain_event", return_value=None),
            open(out_dir / "mapper.jsonl", "wb") as out,
        ):
            return write_jsonl(events, out)
    with open(out_dir / "log.jsonl", "wb") as out:
        return write_jsonl(events, out)


def main(subject: str, dsn: str, out_dir: str, to_position: str) -> None:
    """Run one subject and print its JSON line (events, seconds, peak MiB)."""
    from eventstore.export import require_pyarrow

    if subject == PARQUET:
        require_pyarrow()  # imports come before the clock
    started = time.perf_counter()
    if subject == COPY:
        events = _raw_copy(dsn, Path(out_dir), int(to_position))
    else:
        events = _export(subject, dsn, Path(out_dir), int(to_position))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"events": events, "seconds": seconds, "peak_mib": peak}))


if __name__ == "__main__":
    main(*sys.argv[1:])
