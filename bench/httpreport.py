"""The tables of ``bench.bench_http``: the figures of each server, then each comparison."""

from __future__ import annotations

from typing import Any

Runs = dict[tuple[str, str], list[Any]]  # (server, route) -> bench_http.Run of each repeat
HEALTH = "GET /health"
# What one step from the server before it adds to GET /health (server CPU per request).
STEPS = (
    ("the thread-pool hop (a def route)", "bare def", "bare async"),
    ("the access log (bare)", "bare def", "bare def, no access log"),
    ("the response model (dict -> bytes)", "bare def", "bare def, bytes"),
    ("an included router", "bare def, included", "bare def"),
    ("Chronicle's access log", "chronicle", "chronicle, no access log"),
    ("Chronicle's middleware", "chronicle", "chronicle, no middleware"),
    (
        "the rest: Chronicle without middleware over the bare included route",
        "chronicle, no middleware",
        "bare def, included",
    ),
)


def median(runs: list[Any], key: str) -> float:
    values = sorted(getattr(r, key) for r in runs)
    return float(values[len(values) // 2])


def report(runs: Runs, idle: dict[str, float]) -> str:
    """Every table, as text."""
    return "\n\n".join(
        part for part in (_figures(runs), _steps(runs), _pairs(runs), _idle(idle)) if part
    )


def _figures(runs: Runs) -> str:
    lines = [
        f"{'server':<34}{'route':<26}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'CPU µs':>8}"
        f"{'×health':>9}  runs (req/s)"
    ]
    for (server, route), done in runs.items():
        health = runs.get((server, HEALTH))
        ratio = median(done, "rate") / median(health, "rate") if health else float("nan")
        lines.append(
            f"{server:<34}{route:<26}{median(done, 'rate'):>8,.0f}{median(done, 'p50_ms'):>8.2f}"
            f"{median(done, 'p99_ms'):>8.2f}{median(done, 'cpu_us'):>8,.0f}{ratio:>9.2f}  "
            + " / ".join(f"{r.rate:,.0f}" for r in done)
        )
    return "\n".join(lines)


def _steps(runs: Runs) -> str:
    lines = ["GET /health, server CPU per request: what each step adds"]
    for name, server, base in STEPS:
        if (server, HEALTH) in runs and (base, HEALTH) in runs:
            added = median(runs[server, HEALTH], "cpu_us") - median(runs[base, HEALTH], "cpu_us")
            lines.append(f"  {name:<72}{added:>+7,.0f} µs  ({server} − {base})")
    whole = [runs.get((s, HEALTH)) for s in ("chronicle", "bare async")]
    if whole[0] and whole[1]:
        cpu = [median(r, "cpu_us") for r in whole if r]
        rate = [median(r, "rate") for r in whole if r]
        lines.append(
            f"  chronicle over bare async: {cpu[0] - cpu[1]:+,.0f} µs of CPU, "
            f"rate {rate[0] / rate[1]:.2f}×"
        )
    return "\n".join(lines) if len(lines) > 1 else ""


def _pairs(runs: Runs) -> str:
    lines = ["the same routes on two servers: rate ratio (CPU per request, µs)"]
    for server, base in (
        ("chronicle", "chronicle before"),
        ("chronicle", "chronicle, documented order"),
        ("chronicle", "chronicle, no gc.freeze"),
        ("chronicle, granian", "chronicle"),
        ("chronicle, granian, no access log", "chronicle, no access log"),
    ):
        for (name, route), done in runs.items():
            if name == server and (base, route) in runs:
                before = runs[base, route]
                lines.append(
                    f"  {route:<26}{server} / {base}: "
                    f"{median(done, 'rate') / median(before, 'rate'):.2f}×  "
                    f"({median(before, 'cpu_us'):,.0f} -> {median(done, 'cpu_us'):,.0f})"
                )
    return "\n".join(lines) if len(lines) > 1 else ""


def _idle(idle: dict[str, float]) -> str:
    lines = [
        f"  {name:<34}{1000 * share:>7.1f} ms of CPU per second" for name, share in idle.items()
    ]
    return "idle, no request (background threads)\n" + "\n".join(lines) if lines else ""
