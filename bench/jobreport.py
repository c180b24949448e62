"""The jobs benchmark's tables: each subject's median run next to its baseline from the same run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bench.cpu import Cpu
from bench.harness import Run
from bench.jobsetup import LoadTimes, median


@dataclass
class Sample:
    """One measured run and the CPU seconds each party spent during it."""

    run: Run
    cpu: Cpu

    @property
    def rate(self) -> float:
        return self.run.rate


@dataclass(frozen=True)
class Group:
    """A subject measured next to its baseline, and the least the subject should reach: a rate
    (items/s), or a multiple of its baseline's rate."""

    label: str
    subject: str
    baseline: str
    target: float | None = None
    ratio: float | None = None
    per_request: int = 1  # items one request of the subject carries (rates are in items/s)

    def rate(self, subject: str, sample: Sample) -> float:
        return sample.rate * (self.per_request if subject == self.subject else 1)


Results = Mapping[tuple[str, str], list[Sample]]


def median_sample(samples: list[Sample]) -> Sample:
    """The sample whose rate is the median of ``samples``."""
    return sorted(samples, key=lambda s: s.rate)[len(samples) // 2]


def table(groups: list[Group], results: Results, cores: int) -> str:
    """One row per subject and baseline: rate, latencies, ratios, CPU per request, runs."""
    header = (
        f"{'measure':<26}{'subject':<26}{'rate/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'×base':>7}"
        f"{'×1000/s':>8}{'cpu:bench':>10}{'api':>6}{'pg':>6}{'busy':>6}{'other':>6}"
        f"  {'runs (req/s)':<22}{'err':>4}"
    )
    lines = [header, "-" * len(header)]
    for group in groups:
        base = median_sample(results[group.label, group.baseline]).rate
        for subject in (group.subject, group.baseline):
            samples = results[group.label, subject]
            sample = median_sample(samples)
            run, rate = sample.run, group.rate(subject, sample)
            target = f"{rate / group.target:.2f}" if group.target else "-"
            if subject != group.subject:
                target = "-"
            lines.append(
                f"{group.label:<26}{subject:<26}{rate:>7,.0f}"
                f"{run.percentile_ms(0.5):>8.2f}{run.percentile_ms(0.99):>8.2f}"
                f"{rate / base if base else 0:>7.2f}{target:>8}"
                f"{_per_request(sample)}{_busy(sample, cores)}  "
                f"{' / '.join(f'{group.rate(subject, s):,.0f}' for s in samples):<22}"
                f"{sum(run.domain_errors.values()) + run.unexpected:>4}"
            )
    return "\n".join(lines)


def verdicts(groups: list[Group], results: Results) -> str:
    """One PASS/MISS line per group with a target or a ratio to reach."""
    lines = []
    for group in groups:
        rate = group.rate(group.subject, median_sample(results[group.label, group.subject]))
        base = median_sample(results[group.label, group.baseline]).rate
        ratio = rate / base if base else 0.0
        if group.target is not None:
            lines.append(
                f"{'PASS' if rate >= group.target else 'MISS'}  {group.label}: "
                f"≥ {group.target:,.0f} items/s — {rate:,.0f}/s = {rate / group.target:.2f}× "
                f"the target, {ratio:.2f}× {group.baseline} ({base:,.0f}/s)"
            )
        if group.ratio is not None:
            lines.append(
                f"{'PASS' if ratio >= group.ratio else 'MISS'}  {group.label}: "
                f"≥ {group.ratio:g}× {group.baseline} — {rate:,.0f}/s = {ratio:.2f}× "
                f"({base:,.0f}/s)"
            )
    return "\n".join(lines)


def load_lines(times: LoadTimes, items: int) -> str:
    """Loading the finished job from a fresh application, next to a replay of every event."""
    created, snapshot_version, snapshot_bytes, version = times.sizes
    tail = (version or 0) - (snapshot_version or 0)
    snap, replay = median(times.snapshot_ms), median(times.replay_ms)
    snapshot_label = f"repository.get: snapshot v{snapshot_version} + {tail} event(s)"
    replay_label = f"replay of all {version:,} events (baseline)"
    return "\n".join(
        [
            f"loading a finished job of {items:,} items from a fresh application "
            f"(median of {len(times.snapshot_ms)}):",
            f"  {snapshot_label:<48}{snap:>8.1f} ms   {snap / replay:.2f}× replay",
            f"  {replay_label:<48}{replay:>8.1f} ms   1.00×",
            f"  stored: Created event {_kib(created)}, last snapshot {_kib(snapshot_bytes)}",
        ]
    )


def _per_request(sample: Sample) -> str:
    """CPU ms per request of the bench process, the API server and PostgreSQL."""
    count = len(sample.run.latencies)
    parts = [sample.cpu.bench, sample.cpu.server, sample.cpu.postgres]
    return "".join(
        f"{1000 * part / count:>{width}.2f}" if part is not None and count else f"{'-':>{width}}"
        for part, width in zip(parts, (10, 6, 6), strict=True)
    )


def _busy(sample: Sample, cores: int) -> str:
    """Shares of the machine's cores used by us (bench, server, PostgreSQL) and by the rest."""
    seconds, cpu = sample.run.seconds * cores, sample.cpu
    if not seconds:
        return f"{'-':>6}{'-':>6}"
    rest = max(0.0, cpu.machine - cpu.ours) if cpu.machine is not None else None
    other = f"{rest / seconds:.0%}" if rest is not None else "-"
    return f"{cpu.ours / seconds:>6.0%}{other:>6}"


def _kib(size: int | None) -> str:
    return f"{size / 1024:,.0f} KiB" if size else "none"
