"""The reference worker and `chronicle worker` against a served API with the local object store."""

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import cli
from tests.conftest import TEST_SECRET
from tests.e2e.flows import bearer, fund, ready_job, settle, sign_up
from worker.reference import ReferenceWorker

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def user(http, live_server):
    """A pro user with 100 credits, the grant read back."""
    user_id, auth = sign_up(http)
    admin = bearer(live_server.services.tokens.issue("ann", "admin"))
    position = fund(http, admin, user_id, 90)
    assert me(http, auth, position)["credits"] == 100
    return auth


@pytest.fixture
def worker_token(live_server):
    return live_server.services.tokens.issue("gpu-test", "worker")


def me(http, auth, position=None):
    params = {"min_position": position} if position else {}
    return http.get("/me", headers=auth, params=params).raise_for_status().json()


def job_detail(http, auth, job):
    return http.get(f"/jobs/{job['job_id']}", headers=auth).raise_for_status().json()


def derived(job_id: str, index: int) -> dict:
    """What the worker must store for an item uploaded by `flows.upload_all`."""
    data = b"image-bytes-%d" % index
    sha256 = hashlib.sha256(data).hexdigest()
    return {"sha256": sha256, "bytes": len(data), "job_id": job_id, "item_index": index}


class FailingDownloads(httpx.BaseTransport):
    """Real HTTP, except that downloads of the chosen items answer 500."""

    def __init__(self, indexes: set[int]) -> None:
        self.indexes, self.real = indexes, httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/storage/objects/") and int(path.rsplit("/", 1)[1]) in self.indexes:
            return httpx.Response(500, text="disk on fire")
        return self.real.handle_request(request)


class UnavailableLeases(httpx.BaseTransport):
    """Real HTTP, except that the first lease calls answer 503."""

    def __init__(self, failures: int) -> None:
        self.failures, self.real = failures, httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/worker/leases" and self.failures:
            self.failures -= 1
            return httpx.Response(503, json={"error": {"code": "unavailable", "message": "x"}})
        return self.real.handle_request(request)


def test_a_worker_runs_a_queued_job_to_done_and_stores_each_result(
    http, user, worker_token, live_server
):
    job = ready_job(http, user, items=3)
    with ReferenceWorker(live_server.url, worker_token) as worker:
        counts = worker.run(stop_when_idle=10, max_items=3)
    settle(live_server.services)
    detail = job_detail(http, user, job)
    assert (counts["processed"], counts["succeeded"]) == (3, 3)
    assert detail["status"] == "done"
    for item in detail["items"]:
        stored = live_server.services.object_store.get(item["result_key"])
        assert json.loads(stored) == derived(job["job_id"], item["item_index"])
    assert me(http, user).items() >= {"credits": 97, "reserved_credits": 0}.items()


def test_failures_and_repeated_callbacks_keep_progress_and_credits_exact(
    http, user, worker_token, live_server
):
    job = ready_job(http, user, "bulk-tagging", items=50)  # 1 credit per item
    worker = ReferenceWorker(
        live_server.url, worker_token, fail_rate=0.2, duplicate_rate=0.3, rng=random.Random(7)
    )
    with worker:
        counts = worker.run(stop_when_idle=10, max_items=50)
    settle(live_server.services)
    detail = job_detail(http, user, job)
    progress = detail["progress"]
    assert counts["failed"] > 0 and counts["duplicates_sent"] > 0
    succeeded = counts["succeeded"]
    assert progress == {
        "done": succeeded,
        "succeeded": succeeded,
        "failed": counts["failed"],
        "total": 50,
    }
    assert progress["done"] + progress["failed"] == 50
    assert len(detail["items"]) == 50 and counts["duplicate_mismatches"] == 0
    assert me(http, user)["credits"] == 100 - counts["succeeded"]


def test_a_failed_download_is_reported_as_a_failed_item_and_the_rest_go_on(
    http, user, worker_token, live_server
):
    job = ready_job(http, user, items=3)
    transport = FailingDownloads({1})
    with ReferenceWorker(live_server.url, worker_token, transport=transport) as worker:
        counts = worker.run(stop_when_idle=10, max_items=3)
    settle(live_server.services)
    items = job_detail(http, user, job)["items"]
    assert (counts["succeeded"], counts["failed"]) == (2, 1)
    assert [i["outcome"] for i in items] == ["succeeded", "failed", "succeeded"]
    assert "500" in items[1]["error"] and items[1]["result_key"] is None


def test_a_lease_answered_503_is_retried(http, user, worker_token, live_server):
    job = ready_job(http, user, items=2)
    transport = UnavailableLeases(failures=2)
    with ReferenceWorker(live_server.url, worker_token, transport=transport) as worker:
        assert worker.run_once() == 2
    settle(live_server.services)
    assert transport.failures == 0
    assert job_detail(http, user, job)["status"] == "done"


@pytest.mark.parametrize("how", ["option", "environment", "minted"])
def test_the_cli_works_a_queued_job_and_exits_when_idle(
    http, user, worker_token, live_server, tmp_path, how
):
    job = ready_job(http, user, items=2)
    env = {**os.environ, "CHRONICLE_DATA_DIR": str(tmp_path), "CHRONICLE_JWT_SECRET": TEST_SECRET}
    env.pop("CHRONICLE_WORKER_TOKEN", None)
    args = ["--api", live_server.url, "--idle-exit", "1"]
    if how == "option":
        args += ["--token", worker_token]
    elif how == "environment":
        env["CHRONICLE_WORKER_TOKEN"] = worker_token
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "worker", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "processed 2, succeeded 2, failed 0" in done.stdout
    settle(live_server.services)
    assert job_detail(http, user, job)["status"] == "done"


@pytest.mark.parametrize("option", ["--fail-rate", "--duplicate-rate"])
@pytest.mark.parametrize("value", ["1.5", "-0.1"])
def test_a_rate_outside_zero_to_one_is_a_usage_error_naming_the_option(option, value):
    result = CliRunner().invoke(cli, ["worker", f"{option}={value}", "--token", "t"])
    assert result.exit_code == 2
    assert option in result.output and "between 0 and 1" in result.output
