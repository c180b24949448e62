"""Benchmark of the history: export against a raw COPY, and the audit page, on a large log.

Run from the repository root:
``.venv/bin/python -m bench.bench_history [--events N] [--only export|audit] [--quick]``.
The log is generated (``bench.historydata``: real stored events, cloned, COPYed in); exports
run in child processes (``bench.historyexport``) for their peak memory; the audit pages are
asked for over HTTP once the audit_log projection has caught up (``bench.historyaudit``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from bench.apiserver import served
from bench.bench_commands import header
from bench.harness import Run
from bench.historyaudit import HEALTH, filter_values, measure_pages, project_audit_log, subjects
from bench.historydata import generate_events
from bench.historyexport import COPY, JSONL, MAPPER, PARQUET, ExportRun, run_subject
from bench.server import scratch_database

EXPORT_TARGET = 0.3  # events/s as a fraction of the raw COPY's, same rows, same run
PAGE_TARGET_MS = 50.0  # p99 of every audit list request


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line: where PostgreSQL is, how many events, how long and how often."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_history", description=__doc__)
    parser.add_argument("--dsn", default=os.environ.get("CHRONICLE_BENCH_DSN"))
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the log")
    parser.add_argument(
        "--mapper-events", type=int, default=100_000, help="events the mapper-only export reads"
    )
    parser.add_argument("--clients", type=int, default=1, help="concurrent HTTP clients")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each page run")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each subject")
    parser.add_argument(
        "--only", choices=("export", "audit"), help="measure one part (each needs minutes)"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 20,000 events, 1 run")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.mapper_events, args.seconds, args.repeats = 20_000, 5_000, 1.0, 1
    return args


def measure_exports(
    dsn: str, head: int, out: Path, args: argparse.Namespace
) -> dict[str, list[ExportRun]]:
    """Each export subject ``repeats`` times, interleaved; the mapper-only one on fewer events."""
    runs: dict[str, list[ExportRun]] = {}
    for repeat in range(1, args.repeats + 1):
        for subject in (COPY, JSONL, PARQUET, MAPPER):
            upto = min(head, args.mapper_events) if subject == MAPPER else head
            run = run_subject(subject, dsn, out, upto)
            runs.setdefault(subject, []).append(run)
            print(
                f"export: repeat {repeat}/{args.repeats}  {subject:<40}{run.rate:>10,.0f} ev/s  "
                f"{run.peak_mib:6.0f} MiB",
                file=sys.stderr,
                flush=True,
            )
    return runs


def export_report(runs: dict[str, list[ExportRun]]) -> tuple[list[str], list[str]]:
    """The export table (medians) and its verdicts."""
    base = statistics.median(r.rate for r in runs[COPY])
    lines = [
        f"{'export subject':<42}{'events':>10}{'ev/s':>10}{'peak MiB':>10}  × COPY",
        "-" * 82,
    ]
    verdicts = []
    for subject, subject_runs in runs.items():
        rate = statistics.median(r.rate for r in subject_runs)
        peak = max(r.peak_mib for r in subject_runs)
        lines.append(
            f"{subject:<42}{subject_runs[0].events:>10,}{rate:>10,.0f}{peak:>10.0f}  "
            f"{rate / base:.2f}×"
        )
        if subject in (JSONL, PARQUET):
            ok = rate / base >= EXPORT_TARGET
            verdicts.append(f"{'met' if ok else 'MISSED'}: {subject} ≥ {EXPORT_TARGET}× COPY")
    return lines, verdicts


def page_report(runs: dict[str, list[Run]]) -> tuple[list[str], list[str], bool]:
    """The audit page table (latencies over every run), its verdicts, and whether any failed."""
    lines = [f"{'audit request':<48}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}", "-" * 74]
    verdicts, failed = [], False
    for name, subject_runs in runs.items():
        latencies = sorted(lat for r in subject_runs for lat in r.latencies) or [float("nan")]
        p50, p99 = (
            1000 * latencies[min(len(latencies) - 1, int(f * len(latencies)))] for f in (0.5, 0.99)
        )
        rate = statistics.median(r.rate for r in subject_runs)
        lines.append(f"{name:<48}{rate:>8,.0f}{p50:>9.1f}{p99:>9.1f}")
        errors = sum(r.unexpected + sum(r.domain_errors.values()) for r in subject_runs)
        if errors:
            failed = True
            verdicts.append(f"FAILED: {name}: {errors} wrong answers; {subject_runs[0].tracebacks}")
        elif name != HEALTH:
            ok = p99 <= PAGE_TARGET_MS
            verdicts.append(f"{'met' if ok else 'MISSED'}: {name} p99 ≤ {PAGE_TARGET_MS:g} ms")
    return lines, verdicts, failed


def main(argv: list[str] | None = None) -> int:
    """Generate, measure, print; exit 1 when an audit request answered wrong."""
    args = parse_args(argv)
    warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR")
    started = time.monotonic()
    failed = False
    with (
        scratch_database(args.dsn) as dsn,
        tempfile.TemporaryDirectory(prefix="chronicle-bench-history-") as tmp,
    ):
        print(header(dsn, args), flush=True)
        clock = time.perf_counter()
        head = generate_events(dsn, args.events)
        took = time.perf_counter() - clock
        print(f"log: {args.events:,} events generated and COPYed in {took:.0f} s", flush=True)
        if args.only != "audit":
            lines, verdicts = export_report(measure_exports(dsn, head, Path(tmp), args))
            print("\n".join(["", *lines, "", *verdicts, ""]), flush=True)
        if args.only != "export":
            projected = project_audit_log(dsn, head)
            print(
                f"audit_log rebuilt from {head:,} events in {projected:.0f} s "
                f"({head / projected:,.0f} events/s)",
                flush=True,
            )
            found = subjects(filter_values(dsn, head), head)
            api_dir = Path(tmp) / "api"
            api_dir.mkdir()
            with served(dsn, api_dir, command="api") as server:
                pages = measure_pages(server.url, found, args.clients, args.seconds, args.repeats)
            lines, verdicts, failed = page_report(pages)
            print(
                f"\n{args.clients} HTTP client(s), closed loop; `chronicle api` in a child process",
                *lines,
                "",
                *verdicts,
                sep="\n",
            )
    print(f"took {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
