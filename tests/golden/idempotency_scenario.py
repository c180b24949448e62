"""The scenario that wrote idempotency_v1.json: every kind of stored command outcome, over HTTP.

It was run once, on commit 2b73c44 (whose executor stored the API's answer, built by the
schemas' ``present`` on the writer thread), with ``PYTHONPATH=<checkout> python
tests/golden/idempotency_scenario.py tests/golden/idempotency_v1.json``, on an embedded
PostgreSQL. It makes each request that stores an outcome (a command under an
``Idempotency-Key``, a worker's callback under its key), and writes the log, the stored
outcomes, and each request with the answer it got. Never run it again over v1: the fixture is
what that code stored and answered, and later code must answer a repeat of each request with
the same answer (``tests/integration/test_idempotency_golden.py``).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg

ABOUT = (
    "Requests under an idempotency key, as {source} answered them, with the log and the "
    "command_idempotency rows they left. Never edit: a repeat of each request must get the "
    "same answer from today's code. `token` and the upload URLs are fresh on every answer."
)
TEST = {
    "title": "여행 성향 테스트",
    "description": "What kind of traveller are you?",
    "tags": ["여행", "travel"],
    "questions": [
        {
            "text": "A free day abroad:",
            "choices": [
                {"text": "Join a group tour", "axis": "EI", "pole": "E", "weight": 1},
                {"text": "Wander alone", "axis": "EI", "pole": "I", "weight": 1},
            ],
        }
    ],
    "results": {"ESTJ": {"title": "The tour leader"}, "ISTJ": {"title": "The quiet planner"}},
}


class Recorder:
    """Makes requests through ``client`` and keeps each with its answer."""

    def __init__(self, client: Any, tokens: Any) -> None:
        self.client = client
        self.tokens = tokens
        self.requests: list[dict[str, Any]] = []

    def send(
        self,
        method: str,
        path: str,
        *,
        who: tuple[str, str] | None = None,
        key: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {} if headers is None else dict(headers)
        if key is not None:
            sent["Idempotency-Key"] = key
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        if body is not None:
            sent["Content-Type"] = "application/json"
        auth = {} if who is None else {"Authorization": f"Bearer {self.tokens.issue(*who)}"}
        answer = self.client.request(method, path, content=raw, headers={**sent, **auth})
        self.requests.append(
            {
                "method": method,
                "path": path,
                "subject": who[0] if who else None,
                "role": who[1] if who else None,
                "headers": sent,
                "body": raw.decode(),
                "status": answer.status_code,
                "answer": answer.text,
                "etag": answer.headers.get("etag"),
            }
        )
        return answer


def scenario(http: Recorder) -> None:
    admin = ("ann", "admin")
    signup = http.send("POST", "/auth/anon", key="signup-1").json()
    user = (signup["user_id"], "user")
    missing_user = "00000000-0000-4000-8000-00000000dead"
    http.send(
        "POST",
        f"/admin/users/{user[0]}/credits",
        who=admin,
        key="grant-1",
        body={"amount": 25, "reason": "welcome"},
    )
    http.send(
        "POST",
        f"/admin/users/{missing_user}/credits",
        who=admin,
        key="grant-missing",
        body={"amount": 5, "reason": "nobody"},
    )
    http.send("PUT", f"/admin/users/{user[0]}/plan", who=admin, key="plan-1", body={"plan": "pro"})
    rule = http.send(
        "POST",
        "/rules",
        who=user,
        key="rule-1",
        body={"name": "portraits", "preset": "portrait", "params": {"size": 2}},
    ).json()
    http.send(
        "PUT",
        f"/rules/{rule['rule_id']}",
        who=user,
        key="rule-2",
        body={"name": "portraits, big", "preset": "portrait", "params": {"size": 3}},
    )
    http.send("DELETE", f"/rules/{rule['rule_id']}", who=user, key="rule-3")
    created = http.send(
        "POST", "/jobs", who=user, key="job-1", body={"preset": "portrait", "item_count": 2}
    ).json()
    http.send(
        "POST",
        "/jobs",
        who=user,
        key="job-too-big",
        body={"preset": "portrait", "item_count": 1000},
    )
    job = created["job_id"]
    for upload in created["uploads"]:
        http.client.put(
            upload["url"].removeprefix(str(http.client.base_url)),
            content=b"portrait",
            headers={"Content-Type": "image/jpeg"},
        )
    http.send("POST", f"/jobs/{job}/confirm-upload", who=user, key="confirm-1")
    queued = http.send("POST", f"/jobs/{job}/execute", who=user, key="execute-1").json()
    auth = {"Authorization": f"Bearer {http.tokens.issue(*user)}"}
    http.client.get(f"/jobs/{job}?min_position={queued['position']}", headers=auth)
    worker = ("gpu-1", "worker")
    http.send("POST", "/worker/leases", who=worker, body={"max_items": 2})
    http.send(
        "POST",
        f"/jobs/{job}/callback",
        who=worker,
        body={
            "item_index": 0,
            "outcome": "succeeded",
            "result_key": "r/0",
            "idempotency_key": "cb-0",
        },
    )
    http.send(
        "POST",
        f"/jobs/{job}/callbacks",
        who=worker,
        body={
            "items": [
                {
                    "item_index": 1,
                    "outcome": "failed",
                    "error": "too dark",
                    "idempotency_key": "cb-1",
                },
                {
                    "item_index": 0,
                    "outcome": "succeeded",
                    "result_key": "r/0",
                    "idempotency_key": "cb-0",
                },
            ]
        },
    )
    other = http.send(
        "POST", "/jobs", who=user, key="job-2", body={"preset": "portrait", "item_count": 1}
    ).json()
    http.send("POST", f"/jobs/{other['job_id']}/cancel", who=user, key="cancel-1")
    http.send("POST", f"/jobs/{other['job_id']}/execute", who=user, key="execute-canceled")
    test = http.send("POST", "/api/admin/tests", who=admin, key="test-1", body=TEST).json()
    path = f"/api/admin/tests/{test['test_id']}"
    saved = {**TEST, "title": "여행 성향 테스트 (개정)"}
    http.send("PUT", path, who=admin, key="test-2", body=saved, headers={"If-Match": '"1"'})
    http.send("PUT", path, who=admin, key="test-stale", body=TEST, headers={"If-Match": '"1"'})
    http.send("POST", f"{path}/publish", who=admin, key="test-3")
    http.send("POST", f"{path}/unpublish", who=admin, key="test-4")
    http.send("DELETE", path, who=admin, key="test-5")


def older_shapes(found: dict[str, Any], requests: list[dict[str, Any]]) -> None:
    """Add the shapes earlier revisions stored, derived from this run's records.

    The first revision stored an error's Python class (``"type"``), not its code; until
    ``succeeded`` existed, a job's progress was ``{"done", "failed", "total"}``. Each derived
    record is the same request under a key of its own, and is answered as the original was.
    """
    derived = {
        "execute-canceled": ("execute-canceled-v0", _error_as_type),
        "confirm-1": ("confirm-1-v0", _done_only),
        "job-1": ("job-1-v0", _done_only),
    }
    for request in list(requests):
        given = request["headers"].get("Idempotency-Key")
        if given not in derived:
            continue
        key, older = derived[given]
        record = next(o for o in found["outcomes"] if o["key"].endswith(f":{given}"))
        found["outcomes"].append(
            {
                "key": record["key"].removesuffix(given) + key,
                "fingerprint": record["fingerprint"],
                "outcome": older(record["outcome"]),
                "derived_from": record["key"],
            }
        )
        requests.append({**request, "headers": {**request["headers"], "Idempotency-Key": key}})


def _error_as_type(outcome: dict[str, Any]) -> dict[str, Any]:
    from domain.errors import error_for_code

    error = outcome["error"]
    name = error_for_code(error["code"]).__name__
    return {**outcome, "error": {"type": name, "message": error["message"]}}


def _done_only(outcome: dict[str, Any]) -> dict[str, Any]:
    progress = {k: v for k, v in outcome["result"]["progress"].items() if k != "succeeded"}
    return {**outcome, "result": {**outcome["result"], "progress": progress}}


def log_rows(dsn: str) -> dict[str, list[dict[str, Any]]]:
    with psycopg.connect(dsn) as conn:
        events = conn.execute(
            "SELECT originator_id::text, originator_version, topic, convert_from(state, 'UTF8') "
            "FROM chronicle_events ORDER BY notification_id"
        ).fetchall()
        outcomes = conn.execute(
            "SELECT key, fingerprint, outcome FROM command_idempotency ORDER BY key"
        ).fetchall()
    return {
        "events": [
            {"originator_id": i, "originator_version": v, "topic": t, "state": s}
            for i, v, t, s in events
        ],
        "outcomes": [{"key": k, "fingerprint": f, "outcome": o} for k, f, o in outcomes],
    }


def main(path: str, source: str = "commit 2b73c44") -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.bootstrap import services
    from api.settings import Settings
    from eventstore.database import Database
    from eventstore.migrate import migrate

    data_dir = Path(tempfile.mkdtemp(prefix="chronicle-golden-"))
    try:
        settings = Settings(data_dir=data_dir, jwt_secret="golden-" * 6, read_wait_seconds=10)
        settings.public_base_url = "http://testserver"
        with Database(None, data_dir / "pg") as db:
            migrate(db.dsn)
            with services(settings, db.dsn, run_projections=True) as built:
                with TestClient(create_app(built)) as client:
                    http = Recorder(client, built.tokens)
                    scenario(http)
            found = log_rows(db.dsn)
        older_shapes(found, http.requests)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    with open(path, "w", encoding="utf-8") as out:
        json.dump(
            {"about": ABOUT.format(source=source), **found, "requests": http.requests},
            out,
            indent=1,
            ensure_ascii=False,
        )
        out.write("\n")
    print(
        f"{len(found['events'])} events, {len(found['outcomes'])} outcomes, "
        f"{len(http.requests)} requests -> {path}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
