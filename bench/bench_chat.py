"""One hot chat room: messages delivered to every connected client, and the lag from a post's
commit to each client; then what idle WebSocket connections cost.

One scratch database, ``chronicle serve`` in a child process. ``--clients`` WebSocket clients
join one room; ``--posters`` of them post for ``--seconds``, each waiting for its ack and at
most 19 a second (a member may post at most 200 messages in 10 s in a room). Figures: posts
acknowledged per second; messages delivered per second (posts × clients that received them);
the lag from each message's timestamp (taken just before its commit) to its arrival at each
client, p50/p99. Baseline in the same run: the same posters with no other client connected
(what the room takes without fan-out). Then ``--idle`` connections held open on the room: the
server's memory per connection.
Targets (a Durable Object's soft limit per object): ≥ 1,000 messages/s delivered, p99 ≤ 100 ms.
Run from the repository root: ``.venv/bin/python -m bench.bench_chat``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

from bench.apiserver import served
from bench.bench_commands import header
from bench.bench_live import _usage
from bench.server import scratch_database

TARGET_RATE, TARGET_P99 = 1000.0, 0.100
PACE = 1 / 19  # seconds between one poster's posts, under the room's most of 200 per 10 s


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_chat", description=__doc__)
    parser.add_argument("--dsn", help="A PostgreSQL server to use (default: embedded).")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--posters", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--idle", type=int, default=1000)
    return parser.parse_args(argv)


async def _users(http: httpx.AsyncClient, count: int, room_id: str | None) -> list[str]:
    tokens = []
    for _ in range(count):
        token = (await http.post("/auth/anon")).json()["token"]
        if room_id:
            await http.post(f"/chat/rooms/{room_id}/join", headers=_auth(token))
        tokens.append(token)
    return tokens


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _open(url: str, room_id: str, token: str) -> ClientConnection:
    socket = await connect(f"{url.replace('http', 'ws')}/chat/rooms/{room_id}?token={token}")
    history = json.loads(await socket.recv())
    assert history["type"] == "history", history
    return socket


async def hot_room(url: str, clients: int, posters: int, seconds: float) -> dict:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        (owner,) = await _users(http, 1, None)
        body = {"name": "hot", "posts_per_window": 200}
        room_id = (await http.post("/chat/rooms", headers=_auth(owner), json=body)).json()[
            "room_id"
        ]
        tokens = [owner, *await _users(http, max(clients, posters) - 1, room_id)]
    sockets = [await _open(url, room_id, token) for token in tokens[:clients]]
    arrivals: list[list[tuple[float, str]]] = [[] for _ in sockets]
    acked: list[float] = []
    stop = time.monotonic() + seconds

    async def listen(n: int) -> None:
        async for text in sockets[n]:
            frame = json.loads(text)
            if frame["type"] == "event" and frame["event_type"] == "ChatRoom.Posted":
                arrivals[n].append((time.time(), frame["recorded_at"]))
            elif frame["type"] == "ack":
                acked.append(time.monotonic())
                acks[n].set()
            elif frame["type"] == "error":
                raise RuntimeError(f"a post was refused: {frame}")

    acks = [asyncio.Event() for _ in sockets]

    async def post(n: int) -> None:
        count = 0
        while time.monotonic() < stop:
            acks[n].clear()
            sent = time.monotonic()
            text = json.dumps({"type": "post", "client_id": f"{n}-{count}", "text": "hi"})
            await sockets[n].send(text)
            await acks[n].wait()
            count += 1
            # A member may post 200 messages in 10 s (the room's most): at most 19 a second.
            await asyncio.sleep(max(0.0, sent + PACE - time.monotonic()))

    listeners = [asyncio.create_task(listen(n)) for n in range(len(sockets))]
    started = time.monotonic()
    await asyncio.gather(*(post(n) for n in range(posters)))
    posted = len(acked)
    elapsed = time.monotonic() - started
    await asyncio.sleep(2)  # let the last messages arrive (the bench's own pacing, not a check)
    for task in listeners:
        task.cancel()
    for socket in sockets:
        await socket.close()
    delivered = sum(len(a) for a in arrivals)
    lags = [t - datetime.fromisoformat(at).timestamp() for a in arrivals for t, at in a]
    complete = all(len(a) == posted for a in arrivals)
    return {"posted": posted / elapsed, "delivered": delivered / elapsed, "lags": lags,
            "complete": complete}  # fmt: skip


async def idle_connections(url: str, pid: int, count: int) -> tuple[float, float]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        (owner,) = await _users(http, 1, None)
        room_id = (
            await http.post("/chat/rooms", headers=_auth(owner), json={"name": "idle"})
        ).json()["room_id"]
    before, _ = _usage(pid)
    sockets = [await _open(url, room_id, owner) for _ in range(count)]
    await asyncio.sleep(2)
    after, _ = _usage(pid)
    for socket in sockets:
        await socket.close()
    return before, after


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", "XDG_RUNTIME_DIR")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it
    with scratch_database(args.dsn) as dsn, tempfile.TemporaryDirectory() as tmp:
        print(header(dsn, argparse.Namespace(dsn=args.dsn, repeats=1, seconds=args.seconds)))
        with served(dsn, Path(tmp), "serve", threads=16) as server:
            alone = asyncio.run(hot_room(server.url, args.posters, args.posters, args.seconds))
            hot = asyncio.run(hot_room(server.url, args.clients, args.posters, args.seconds))
            before, after = asyncio.run(idle_connections(server.url, server.pid, args.idle))
    p50, p99 = _p(hot["lags"], 50), _p(hot["lags"], 99)
    verdict = "PASS" if hot["delivered"] >= TARGET_RATE else "MISS"
    print(
        f"\none room, {args.posters} posters (each at most 19 posts a second), "
        f"{args.clients} clients connected"
    )
    print(
        f"  posts acknowledged  {hot['posted']:8.0f} /s   (alone: {alone['posted']:.0f} /s, "
        f"ratio {hot['posted'] / alone['posted']:.2f})"
    )
    print(f"  messages delivered  {hot['delivered']:8.0f} /s   {verdict} (≥ {TARGET_RATE:.0f} /s)")
    print(
        f"  lag commit → client p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms   "
        f"{'PASS' if p99 <= TARGET_P99 else 'MISS'} (p99 ≤ {TARGET_P99 * 1000:.0f} ms); "
        f"alone p99 {_p(alone['lags'], 99) * 1000:.1f} ms"
    )
    print(
        f"\n{args.idle} idle connections: {before:.1f} → {after:.1f} MiB, "
        f"{(after - before) * 1024 / args.idle:.1f} KiB each"
    )
    print(f"\nevery client received every message: {hot['complete'] and alone['complete']}")
    return 0 if hot["complete"] and alone["complete"] else 1


if __name__ == "__main__":
    sys.exit(main())
