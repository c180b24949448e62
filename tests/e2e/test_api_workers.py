"""Two API processes on one port keep credits and counts exact: the version check decides.

Each process has its own command executor and holds its own copy of a hot aggregate; a save
made on a stale copy loses on the ``(originator_id, originator_version)`` key and is decided
again on fresh state. Projectors run in the test process, as `chronicle projections run` would.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import wait_until
from tests.e2e.flows import bearer, fund, lease, ready_job, report, settle, sign_up
from tests.e2e.serving import free_port
from tests.e2e.test_signals import _postmaster, assert_stopped, stop
from tests.e2e.twoprocesses import TwoProcesses, hammer, spread_clients, two_api_processes

CLIENTS = 8


@pytest.fixture
def pair(clean_dsn, running, tmp_path):
    """Two API processes; ``running`` (conftest) runs the projectors and reactors beside them."""
    with two_api_processes(clean_dsn, tmp_path) as served:
        yield served


@pytest.fixture
def clients(pair):
    opened = spread_clients(pair, CLIENTS)
    yield opened
    for client in opened:
        client.close()


@pytest.fixture
def admin(running):
    return bearer(running.tokens.issue("ann", "admin"))


def test_requests_are_served_by_two_processes(pair, clients):
    serving = pair.serving()

    assert len(serving) == 2
    assert all(count > 0 for count in serving.values())


def test_jobs_racing_for_one_users_credits_never_overspend(clients, admin, running):
    http = clients[0]
    user_id, auth = sign_up(http)
    fund(http, admin, user_id, 65)  # 10 at sign-up + 65 = 75: fifteen jobs of five items

    answers = hammer(
        clients,
        lambda c, _: [
            c.post("/jobs", headers=auth, json={"preset": "portrait", "item_count": 5}).status_code
            for _ in range(6)
        ],
    )

    statuses = Counter(code for codes in answers for code in codes)
    assert statuses == {201: 15, 402: len(clients) * 6 - 15}
    account = running.event_store.repository.get(user_id)
    assert (account.available, account.reserved, len(account.reservations)) == (0, 75, 15)


def test_grants_to_one_user_from_both_processes_all_count(clients, admin, running):
    http = clients[0]
    user_id, _ = sign_up(http)
    grant = {"amount": 1, "reason": "hot"}
    path = f"/admin/users/{user_id}/credits"

    answers = hammer(
        clients,
        lambda c, _: [c.post(path, headers=admin, json=grant).status_code for _ in range(10)],
    )

    assert Counter(code for codes in answers for code in codes) == {200: len(clients) * 10}
    settle(running)
    me = running.event_store.repository.get(user_id)
    ledger = http.get(
        f"{path.removesuffix('/credits')}/ledger", headers=admin, params={"limit": 500}
    )
    assert me.available == 10 + len(clients) * 10
    assert sum(row["delta"] for row in ledger.json()) == me.available


def test_callbacks_on_one_job_from_both_processes_count_each_item_once(clients, admin, running):
    http = clients[0]
    user_id, auth = sign_up(http)
    fund(http, admin, user_id, 40)
    job = ready_job(http, auth, preset="background-removal", items=50)
    settle(running)
    worker = bearer(running.tokens.issue("gpu-1", "worker"))
    items = lease(http, worker, max_items=50)
    assert len(items) == 50

    def report_all(client: httpx.Client, i: int) -> list[str]:
        # Each client its own keys, so a repeat is decided by the job, not by a stored answer;
        # half the clients go backwards, so both ends of the job are contended.
        answers = []
        for item in items if i % 2 else items[::-1]:
            answer = report(client, worker, item, key=f"{i}-{item['item_index']}").json()
            answers.append(answer.get("status") or answer["error"]["code"])
        return answers

    answers = hammer(clients, report_all)

    statuses = Counter(status for batch in answers for status in batch)
    assert statuses["recorded"] == 50 and statuses.total() == 50 * len(clients)
    # A report after the last item finished the job is refused as on one process.
    assert set(statuses) <= {"recorded", "already_reported", "illegal_transition"}
    done = running.event_store.repository.get(job["job_id"])
    assert (done.status.value, done.succeeded_items, len(done.results)) == ("done", 50, 50)
    settle(running)
    account = running.event_store.repository.get(user_id)
    assert (account.available, account.reserved) == (0, 0)  # 50 reserved, 50 committed


def test_sigterm_stops_every_process_and_loses_nothing_acknowledged(pair, clients, admin, running):
    http = clients[0]
    user_id, _ = sign_up(http)
    children = pair.children()
    acknowledged = Counter()
    counting = threading.Lock()
    path = f"/admin/users/{user_id}/credits"

    def grant_until_refused(client: httpx.Client, i: int) -> None:
        grant = {"amount": 1, "reason": "until stopped"}
        while True:
            try:
                client.post(path, headers=admin, json=grant).raise_for_status()
            except httpx.HTTPError:
                return
            with counting:
                acknowledged[i] += 1
                if sum(acknowledged.values()) == 40:  # under load: stop it mid-stream
                    pair.process.send_signal(signal.SIGTERM)

    hammer(clients, grant_until_refused)
    returncode = pair.process.wait(timeout=60)

    assert returncode == -signal.SIGTERM
    assert not [c.pid for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    recorded = running.event_store.repository.get(user_id).available - 10
    assert recorded >= sum(acknowledged.values()) >= 40


def test_serve_with_two_workers_stops_its_children_then_its_embedded_database():
    data_dir = Path(tempfile.mkdtemp(prefix="chronicle-workers-"))  # the server runs as its user
    port = free_port()
    env = {**os.environ, "CHRONICLE_DATA_DIR": str(data_dir), "CHRONICLE_PORT": str(port)}
    env.pop("CHRONICLE_DATABASE_URL", None)
    log = data_dir / "serve.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--workers", "2"],
            env=env,
            stdout=out,
            stderr=out,
        )
    served = TwoProcesses(f"http://127.0.0.1:{port}", port, process, log)
    try:
        wait_until(lambda: len(served.children()) == 2 and _answers(served), timeout=120)
        children, postmaster = served.children(), _postmaster(data_dir)
        assert postmaster is not None

        returncode = stop(process, signal.SIGTERM)

        assert returncode == -signal.SIGTERM
        assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        assert_stopped(data_dir, postmaster)
    finally:
        if process.poll() is None:
            process.kill()
        postmaster = _postmaster(data_dir)
        if postmaster is not None:
            postmaster.terminate()
        shutil.rmtree(data_dir, ignore_errors=True)


def _answers(served: TwoProcesses) -> bool:
    assert served.process.poll() is None, served.log.read_text()[-3000:]
    try:
        return httpx.get(f"{served.url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
