"""The app's own CPU per request, with no server and no socket: the edge and the routing, by route.

A server's figures (``bench.bench_http``) move by a fifth from run to run on this machine;
differences of tens of microseconds (a middleware, the place of a route in the routing) need
the app alone. Each request is one ASGI call on an event loop, with services that have
metrics and no rate limit; requests without a token are answered 401 by the routes'
bearer dependency (matched, then refused), ``GET /health`` runs its route, ``GET /nowhere``
walks every route to a 404. The CPU is the process's (the thread pool's hop included).

``python -m bench.appcost [--before DIR]``: with ``--before``, the same requests are also sent
to the app of an earlier revision's source tree, in a process of its own, rounds interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

REQUESTS = (
    ("GET", "/health"),
    ("GET", "/me"),
    ("POST", "/jobs"),
    ("POST", "/jobs/00000000-0000-4000-8000-000000000001/callback"),
    ("GET", "/nowhere"),
)
SECRET = "chronicle-bench-secret-of-at-least-32-bytes"


def app() -> Any:
    """The API on services with metrics, settings and presets only."""
    from pydantic import SecretStr

    from api.app import create_app
    from api.auth import TokenIssuer
    from api.metrics import Metrics
    from api.ratelimit import RateLimiter
    from api.settings import Settings
    from domain.presets import Presets

    settings = Settings(jwt_secret=SecretStr(SECRET))
    services = SimpleNamespace(
        settings=settings,
        presets=Presets.load(),
        streams=None,
        metrics=Metrics(),
        limiter=RateLimiter({}),
        tokens=TokenIssuer(SECRET, settings),
    )
    built = create_app(services)  # type: ignore[arg-type]
    built.state.services = services  # what its lifespan does
    return built


async def cost(asgi: Any, method: str, path: str, count: int) -> float:
    """CPU microseconds per request over ``count`` requests."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 9),
        "server": ("127.0.0.1", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    began = time.process_time()
    for _ in range(count):
        await asgi(dict(scope), receive, send)
    return 1e6 * (time.process_time() - began) / count


def measure(count: int) -> dict[str, dict[str, float]]:
    """One round in this process: each request ``count`` times (after a warm-up), on the app,
    on the app without its middleware and, where the app includes routers ahead of their place
    (``api.app.HOT``), on the app without that."""
    import api.app

    apps = {"": app(), ", no middleware": app()}
    apps[", no middleware"].user_middleware.clear()
    if getattr(api.app, "HOT", None):
        api.app.HOT = ()
        apps[", documented order"] = app()

    async def rounds(asgi: Any) -> dict[str, float]:
        for method, path in REQUESTS:
            await cost(asgi, method, path, 200)
        return {f"{m} {p}": await cost(asgi, m, p, count) for m, p in REQUESTS}

    return {variant: asyncio.run(rounds(asgi)) for variant, asgi in apps.items()}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.appcost", description=__doc__)
    parser.add_argument("--before", help="the source tree of an earlier revision")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--one-round", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_round:
        print(json.dumps(measure(args.count)))
        return 0
    trees = {"after": Path.cwd(), **({"before": Path(args.before)} if args.before else {})}
    found: dict[str, dict[str, list[float]]] = {}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            # The file itself (an earlier tree may not have it), -P: its folder not on the path.
            command = [sys.executable, "-P", __file__, "--one-round", "--count", str(args.count)]
            environ = {**os.environ, "PYTHONPATH": str(tree)}
            out = subprocess.run(
                command, cwd=tree, env=environ, check=True, capture_output=True, text=True
            ).stdout
            for variant, costs in json.loads(out.splitlines()[-1]).items():
                for request, micros in costs.items():
                    found.setdefault(name + variant, {}).setdefault(request, []).append(micros)
    print("CPU µs per request (median of rounds): " + "; ".join(found))
    for request in found["after"]:
        cells = [f"{statistics.median(found[n][request]):>10,.1f}" for n in found]
        print(f"  {request:<58}" + "".join(cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
