"""The printed table: each median run next to the same run's baselines, and the targets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bench.harness import Run, Scenario, median_run

SUBJECTS = ("ours", "raw", "naive")
HOT_FLOOR = 1_000.0


@dataclass(frozen=True)
class Target:
    """A goal for ours in one scenario: a least ratio to raw, and a least rate."""

    label: str
    ratio: float
    floor: float = 0.0


Results = Mapping[tuple[str, str], list[Run]]


def table(scenarios: list[Scenario], results: Results) -> str:
    """One row per scenario and subject (median of its runs), with the ratios to raw and naive."""
    header = (
        f"{'scenario':<22}{'subject':<7}{'cmd/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'×raw':>7}{'×naive':>8}{'cmd/txn':>8}  {'runs (cmd/s)':<22}{'conflicts':>10}"
        f"{'errors':>7}"
    )
    lines = [header, "-" * len(header)]
    for scenario in scenarios:
        raw = median_run(results[scenario.label, "raw"]).rate
        naive = median_run(results[scenario.label, "naive"]).rate
        for subject in SUBJECTS:
            runs = results[scenario.label, subject]
            run = median_run(runs)
            errors = sum(run.domain_errors.values()) + run.unexpected
            lines.append(
                f"{scenario.label:<22}{subject:<7}{run.rate:>9,.0f}"
                f"{run.percentile_ms(0.5):>9.2f}{run.percentile_ms(0.99):>9.2f}"
                f"{_ratio(run.rate, raw):>7}{_ratio(run.rate, naive):>8}"
                f"{run.per_transaction:>8.1f}  "
                f"{' / '.join(f'{r.rate:,.0f}' for r in runs):<22}"
                f"{run.conflicts:>10,}{errors:>7}"
            )
    return "\n".join(lines)


def targets(targets_by_scenario: Mapping[str, Target], results: Results) -> tuple[str, bool]:
    """One PASS/MISS line per target, and whether all passed."""
    lines, passed = [], True
    for label, target in targets_by_scenario.items():
        ours = median_run(results[label, "ours"]).rate
        raw = median_run(results[label, "raw"]).rate
        ok = ours >= target.ratio * raw and ours >= target.floor
        passed = passed and ok
        floor = f" and ≥ {target.floor:,.0f} cmd/s" if target.floor else ""
        lines.append(
            f"{'PASS' if ok else 'MISS'}  {target.label}: ours ≥ {target.ratio:.1f}× raw{floor} "
            f"— ours {ours:,.0f} cmd/s = {ours / raw:.2f}× raw ({raw:,.0f} cmd/s)"
        )
    return "\n".join(lines), passed


def problems(results: Results) -> tuple[str, bool]:
    """Domain errors, failed checks and unexpected errors of every run; True if any is serious."""
    lines, serious = [], False
    for (label, subject), runs in results.items():
        for number, run in enumerate(runs, 1):
            where = f"{label} / {subject} / run {number}"
            if run.domain_errors:
                lines.append(f"domain errors  {where}: {dict(run.domain_errors)}")
            if run.abandoned:
                lines.append(f"abandoned      {where}: {run.abandoned} commands still retrying")
            for failure in run.check_failures:
                serious = True
                lines.append(f"CHECK FAILED   {where}: {failure}")
            if run.unexpected:
                serious = True
                lines.append(f"UNEXPECTED     {where}: {run.unexpected} errors; first:")
                lines.extend(run.tracebacks[:1])
    return "\n".join(lines), serious


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}" if base else "-"
