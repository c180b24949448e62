"""What the rate limiter costs a request: the same server with and without limits, under wrk.

One scratch database, one server at a time (``chronicle api``, one process), interleaved and
repeated: with every group limited (limits far above the load, so every request is counted and
none refused: the cost of counting, in process memory) and with none. Subjects: ``GET /me``
(a user's read: the token verified for the caller, then counted) and ``GET /presets`` (an
anonymous read: counted per address). Target: the limiter costs at most 10 % of a request's
rate (with / without ≥ 0.9).

Run from the repository root (wrk from Debian: `apt-get install wrk`):
``.venv/bin/python -m bench.bench_limits``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from api.ratelimit import GROUPS
from bench.apiserver import served
from bench.bench_commands import header
from bench.bench_wrk import Result, _median, funded_tokens, lua_script, run_wrk
from bench.library import register_hot_plan
from bench.server import scratch_database

SUBJECTS = {"GET /me": "/me", "GET /presets": "/presets"}
LIMITED = {f"CHRONICLE_RATE_LIMIT_{group.upper()}": "100000000/minute" for group in GROUPS}
TARGET = 0.9  # the least rate with limits over the rate without


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_limits", description=__doc__)
    parser.add_argument("--dsn", help="A PostgreSQL server to use (default: embedded).")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk", file=sys.stderr)
        return 2
    warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR")
    register_hot_plan()
    results: dict[tuple[str, str], list[Result]] = {}
    with scratch_database(args.dsn) as dsn, tempfile.TemporaryDirectory() as tmp:
        print(header(dsn, args), flush=True)
        _, tokens = funded_tokens(dsn, args.connections)
        scripts = {s: lua_script(Path(tmp), tokens, "GET", p) for s, p in SUBJECTS.items()}
        for repeat in range(args.repeats):
            for name, env in (("limited", LIMITED), ("unlimited", {})):
                data_dir = Path(tmp) / f"{name}-{repeat}"
                data_dir.mkdir()
                with served(dsn, data_dir, "api", threads=16, env=env) as server:
                    for subject, script in scripts.items():
                        result = run_wrk(server.url, script, args)
                        results.setdefault((name, subject), []).append(result)
                        print(f"  {name:<10}{subject:<14}{result.rate:>9,.0f} /s", file=sys.stderr)
    failed = sum(r.failed for rs in results.values() for r in rs)
    lines = [f"{'subject':<14}{'limited':>10}{'unlimited':>11}{'ratio':>8}  verdict"]
    for subject in SUBJECTS:
        on, off = (_median(results[name, subject]).rate for name in ("limited", "unlimited"))
        verdict = "PASS" if on / off >= TARGET else "MISS"
        lines.append(
            f"{subject:<14}{on:>10,.0f}{off:>11,.0f}{on / off:>8.2f}  {verdict} (≥ {TARGET:g})"
        )
    print("\n".join(lines))
    print(f"\nnon-2xx answers and socket errors: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
