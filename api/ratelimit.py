"""Rate limits per client, before any route runs: the Durable Object that counted per IP, replaced.

``rate_limit`` is called by ``api.middleware.RequestMiddleware`` before any body is read.

Each request falls in one group (``group_of``): ``signup`` (``POST /auth/anon``, per client
address), ``worker`` (the worker API), ``admin`` (``/admin/…``, ``/api/admin/…``), ``commands``
(any other change) and ``reads`` (any other ``GET``); health checks, ``/metrics``, the docs and the
signed storage URLs are not limited. A request is counted against the caller: ``user:<subject>``
when its bearer token verifies, else ``ip:<address>``. The address is the peer's, unless the
peer is a trusted proxy (``CHRONICLE_TRUSTED_PROXIES``): then it is the last address in
``Forwarded`` (RFC 7239, its ``for=``) or else ``X-Forwarded-For`` that is not itself a trusted
proxy, so a header forged by anyone else changes nothing. Loopback is not exempt (behind a
proxy on the same host every client is loopback).

Counters are sliding windows of the ``limits`` library (the one slowapi uses): in Redis when
``CHRONICLE_REDIS_URL`` is set (shared by every process and machine), else in this process.
Past a limit: ``429 rate_limited`` with ``Retry-After`` and the IETF draft's ``RateLimit-Limit``,
``RateLimit-Remaining`` and ``RateLimit-Reset`` (every limited answer carries these three). A
WebSocket's opening counts as a read; past the limit it is accepted, then closed with 4429 and the
refusal's message (``socket_refusal``), which a browser can read where it cannot read a 429. When
Redis cannot be reached, reads go through (fail open) and changes get ``503 unavailable``
with ``Retry-After``; the outage is logged once per episode and counted in ``/metrics``.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse
from limits import storage as limit_storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from starlette.responses import JSONResponse

from api.errors import error_body
from domain.errors import ChronicleError

log = logging.getLogger(__name__)
GROUPS = ("signup", "commands", "worker", "reads", "admin")
SOCKET_RATE_LIMITED = 4429  # the close code of a WebSocket opened past its caller's limit
UNLIMITED = ("/health", "/metrics", "/docs", "/openapi.json", "/redoc", "/storage/")
READS = {"GET", "HEAD", "OPTIONS"}


def group_of(method: str, path: str) -> str | None:
    """The group a request is limited in, or None when it is not limited."""
    if path.startswith(UNLIMITED):
        return None
    if path == "/auth/anon":
        return "signup"
    if path.startswith("/worker/") or (
        path.startswith("/jobs/") and path.endswith(("/callback", "/callbacks"))
    ):
        return "worker"
    if path.startswith(("/admin", "/api/admin")):
        return "admin"
    return "reads" if method in READS else "commands"


@dataclass(frozen=True)
class Verdict:
    """Whether a request may go on, and what to tell its client of the limit."""

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"ratelimit-limit", str(self.limit).encode()),
            (b"ratelimit-remaining", str(self.remaining).encode()),
            (b"ratelimit-reset", str(self.reset_seconds).encode()),
        ]


class RateLimiter:
    """Sliding-window counters per group and caller, in Redis or in this process."""

    def __init__(
        self,
        limits: dict[str, str],
        *,
        redis_url: str | None = None,
        prefix: str = "chronicle:",
        trusted_proxies: list[str] | tuple[str, ...] = (),
    ) -> None:
        self._limits: dict[str, RateLimitItem] = {g: parse(v) for g, v in limits.items() if v}
        if redis_url:
            uri = "async+" + redis_url if "://" in redis_url else redis_url
            store = limit_storage.storage_from_string(
                uri, implementation="redispy", wrap_exceptions=True, key_prefix=prefix + "limits"
            )
        else:
            store = limit_storage.storage_from_string("async+memory://")
        self._strategy = SlidingWindowCounterRateLimiter(store)
        self._trusted = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        self._failing = False

    def is_limited(self, group: str) -> bool:
        return group in self._limits

    async def hit(self, group: str, caller: str) -> Verdict | None:
        """Count one request of ``caller`` in ``group``; None when the counters are unreachable."""
        item = self._limits[group]
        try:
            allowed = await self._strategy.hit(item, group, caller)
            stats = await self._strategy.get_window_stats(item, group, caller)
        except StorageError as exc:
            if not self._failing:
                self._failing = True
                log.warning("rate limit counters unreachable (%s): reads go through", exc)
            return None
        if self._failing:
            self._failing = False
            log.info("rate limit counters reachable again")
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Verdict(allowed, item.amount, stats.remaining, reset)

    def client_address(self, scope: dict[str, Any]) -> str:
        """The client's address: the peer's, or the forwarded one when a trusted proxy sent it."""
        peer = (scope.get("client") or ("unknown", 0))[0]
        if not self._is_trusted(peer):
            return peer
        hops = _forwarded_hops(scope)
        for hop in reversed(hops):
            if not self._is_trusted(hop):
                return hop
        return hops[0] if hops else peer

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self._trusted)


@dataclass(frozen=True)
class Refusal:
    """A request refused by its limit (or because limits cannot be checked), before any route."""

    status: int
    code: str
    message: str
    headers: list[tuple[bytes, bytes]]

    def response(self) -> JSONResponse:
        response = JSONResponse(error_body(self.code, self.message), self.status)
        response.raw_headers.extend(self.headers)
        return response


async def rate_limit(
    scope: dict[str, Any], services: Any
) -> tuple[JSONResponse | None, list[tuple[bytes, bytes]]]:
    """Count a request against its caller: the refusal to send instead of it, or None and the
    headers that tell the caller its limit."""
    refusal, headers = await _count(scope, services)
    return (None if refusal is None else refusal.response()), headers


async def socket_refusal(scope: dict[str, Any], services: Any) -> str | None:
    """Count a WebSocket's opening as a read (``GET``) of its caller: why it is refused, or None.

    A token in the query (``?token=``, as a browser's WebSocket must send it) is not read here:
    such a socket counts against its client's address.
    """
    refusal, _ = await _count({**scope, "method": "GET"}, services)
    return None if refusal is None else refusal.message


async def _count(
    scope: dict[str, Any], services: Any
) -> tuple[Refusal | None, list[tuple[bytes, bytes]]]:
    limiter: RateLimiter | None = getattr(services, "limiter", None)
    group = group_of(scope["method"], scope["path"])
    if limiter is None or group is None or not limiter.is_limited(group):
        return None, []
    verdict = await limiter.hit(group, _caller(scope, services, limiter))
    metrics = getattr(services, "metrics", None)
    if metrics is not None and (verdict is None or not verdict.allowed):
        if verdict is None:
            metrics.rate_limit_failures.inc()
        else:
            metrics.rate_limited.labels(group).inc()
    if verdict is None:
        if scope["method"] in READS:
            return None, []
        message = "rate limits cannot be checked now; retry shortly"
        return Refusal(503, "unavailable", message, [(b"retry-after", b"1")]), []
    if not verdict.allowed:
        wait = max(1, verdict.reset_seconds)
        message = f"too many {group} requests; retry in {wait}s"
        headers = [(b"retry-after", str(wait).encode()), *verdict.headers()]
        return Refusal(429, "rate_limited", message, headers), []
    return None, verdict.headers()


def _caller(scope: dict[str, Any], services: Any, limiter: RateLimiter) -> str:
    """``user:<subject>`` for a bearer token that verifies, else ``ip:<client address>``."""
    authorization = _header(scope, b"authorization")
    if authorization and authorization[:7].lower() == "bearer ":
        try:
            return "user:" + services.tokens.verify(authorization[7:].strip()).subject
        except ChronicleError:  # a bad token is counted against its address, then refused
            pass
    return "ip:" + limiter.client_address(scope)


def _forwarded_hops(scope: dict[str, Any]) -> list[str]:
    """The addresses a proxy forwarded, client first: RFC 7239 ``Forwarded``'s ``for=``, else
    ``X-Forwarded-For``. A ``for=`` value loses its quotes, its IPv6 brackets and its port."""
    forwarded = _header(scope, b"forwarded")
    if forwarded is None:
        listed = _header(scope, b"x-forwarded-for") or ""
        return [hop.strip() for hop in listed.split(",") if hop.strip()]
    hops = []
    for element in forwarded.split(","):
        for pair in element.split(";"):
            key, _, value = pair.partition("=")
            if key.strip().lower() == "for" and value.strip():
                hops.append(_node(value.strip().strip('"')))
    return hops


def _node(value: str) -> str:
    """``[2001:db8::1]:443`` → ``2001:db8::1``; ``192.0.2.1:80`` → ``192.0.2.1``."""
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.partition(":")[0] if value.count(":") == 1 else value


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
