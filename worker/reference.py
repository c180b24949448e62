"""A reference GPU worker: leases items over HTTP, "processes" them, reports each result.

It stands in for a real GPU worker in local runs and tests, and can misbehave on purpose:
fail a share of its items and repeat a share of its callbacks, which must change nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
import uuid
from collections import Counter
from typing import Any

import httpx

log = logging.getLogger(__name__)
COUNTS = ("processed", "succeeded", "failed", "duplicates_sent", "duplicate_mismatches")
FIRST_PAUSE, LAST_PAUSE = 0.2, 2.0
RETRIES = 8  # about ten seconds of capped backoff before a transient error is given up on


class WorkerError(Exception):
    """The API refused the worker, or could not be reached after retries."""


class ReferenceWorker:
    """Leases items from a Chronicle API, derives a small JSON result and reports it."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        fail_rate: float = 0.0,
        duplicate_rate: float = 0.0,
        batch: int = 10,
        lease_seconds: int | None = None,
        rng: random.Random | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        for name, rate in (("fail_rate", fail_rate), ("duplicate_rate", duplicate_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {rate}")
        self.fail_rate, self.duplicate_rate = fail_rate, duplicate_rate
        self.batch, self.lease_seconds = batch, lease_seconds
        self.counts: Counter[str] = Counter(dict.fromkeys(COUNTS, 0))
        self._rng = rng or random.Random()
        self._auth = {"Authorization": f"Bearer {token}"}
        # Storage URLs are presigned: they get no Authorization header (S3 would refuse it).
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=30, transport=transport)
        self._stop = threading.Event()

    def __enter__(self) -> ReferenceWorker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def stop(self) -> None:
        """Finish the batch in hand, then return from `run`."""
        self._stop.set()

    def run(self, stop_when_idle: float | None = None, max_items: int | None = None) -> Counter:
        """Process items until idle for `stop_when_idle` seconds, `max_items`, or `stop()`."""
        pause, idle_since, start = FIRST_PAUSE, None, self.counts["processed"]
        while not self._stop.is_set():
            done = self.counts["processed"] - start
            left = None if max_items is None else max_items - done
            if left is not None and left <= 0:
                break
            if self.run_once(left):
                pause, idle_since = FIRST_PAUSE, None
                continue
            now = time.monotonic()
            idle_since = idle_since or now
            if stop_when_idle is not None and now - idle_since >= stop_when_idle:
                break
            if stop_when_idle is not None:
                pause = min(pause, idle_since + stop_when_idle - now)
            self._stop.wait(pause)
            pause = min(pause * 2, LAST_PAUSE)
        return self.counts

    def run_once(self, limit: int | None = None) -> int:
        """Lease one batch (at most `limit` items), process and report each; how many were."""
        body: dict[str, Any] = {"max_items": min(self.batch, limit or self.batch)}
        if self.lease_seconds:
            body["lease_seconds"] = self.lease_seconds
        items = self._call("POST", "/worker/leases", body).json()["items"]
        for item in items:
            self._process(item)
        return len(items)

    def _process(self, item: dict[str, Any]) -> None:
        if self._rng.random() < self.fail_rate:
            outcome, error = "failed", "the reference worker failed this item on purpose"
        else:
            try:
                self._derive(item)
                outcome, error = "succeeded", None
            except httpx.HTTPError as exc:
                outcome, error = "failed", f"{type(exc).__name__}: {exc}"
                log.warning("item %s/%s failed: %s", item["job_id"], item["item_index"], error)
        report = {
            "item_index": item["item_index"],
            "outcome": outcome,
            "idempotency_key": uuid.uuid4().hex,
            **({"result_key": item["result_key"]} if error is None else {"error": error}),
        }
        self.counts["processed"] += 1
        path = f"/jobs/{item['job_id']}/callback"
        try:
            first = self._call("POST", path, report)
        except WorkerError as exc:
            log.error("callback for %s/%s failed: %s", item["job_id"], item["item_index"], exc)
            self.counts["callback_errors"] += 1
            return
        self.counts[outcome] += 1
        if self._rng.random() < self.duplicate_rate:
            self._repeat(path, report, first)

    def _derive(self, item: dict[str, Any]) -> None:
        data = self._http.get(item["download_url"]).raise_for_status().content
        result = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
            "job_id": item["job_id"],
            "item_index": item["item_index"],
        }
        self._http.put(
            item["result_upload_url"],
            content=json.dumps(result).encode(),
            headers={"Content-Type": "application/json"},
        ).raise_for_status()

    def _repeat(self, path: str, report: dict[str, Any], first: httpx.Response) -> None:
        self.counts["duplicates_sent"] += 1
        try:
            again = self._call("POST", path, report)
        except WorkerError as exc:
            again = None
            log.warning("the repeated callback %s failed: %s", report["idempotency_key"], exc)
        if again is None or (again.status_code, again.json()) != (first.status_code, first.json()):
            self.counts["duplicate_mismatches"] += 1
            log.warning(
                "the repeated callback %s got %s, the first got %s",
                report["idempotency_key"],
                again.text if again is not None else "no answer",
                first.text,
            )

    def _call(self, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
        """An API call, retried with capped backoff on connection errors and 5xx answers."""
        pause = FIRST_PAUSE
        for attempt in range(1, RETRIES + 1):
            try:
                response = self._http.request(method, path, json=body, headers=self._auth)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 500:
                    if response.is_error:
                        raise WorkerError(
                            f"{method} {path}: {response.status_code} {response.text}"
                        )
                    return response
                problem = f"{response.status_code} {response.text}"
            if attempt == RETRIES or self._stop.is_set():
                break
            log.warning("%s %s: %s; retrying in %.1f s", method, path, problem, pause)
            self._stop.wait(pause)
            pause = min(pause * 2, LAST_PAUSE)
        raise WorkerError(f"{method} {path} failed after {attempt} attempts: {problem}")
