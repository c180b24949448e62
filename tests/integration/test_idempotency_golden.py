"""A repeat of a request gets its first answer, whatever revision stored that answer.

``tests/golden/idempotency_v1.json`` holds the log and the ``command_idempotency`` rows that
the code of commit 2b73c44 left (it stored the API's answers), the shapes of earlier revisions
derived from them, and each request with the answer it got. Here they are loaded into an empty
database and each request that stored an outcome is sent again: today's code must answer it
exactly as the first answer, but for what is fresh on every answer (a sign-up's token, the
upload URLs' signatures).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.types.json import Jsonb

from api.app import create_app
from api.bootstrap import services
from api.settings import Settings

pytestmark = pytest.mark.postgres
GOLDEN = json.loads(
    (Path(__file__).parents[1] / "golden" / "idempotency_v1.json").read_text(encoding="utf-8")
)
CALLBACK_ROUTES = ("/callback", "/callbacks")


def stored(request: dict[str, Any]) -> bool:
    """Whether the request's outcome was stored (its repeat is answered from the record)."""
    key = request["headers"].get("Idempotency-Key")
    keys = {o["key"].rpartition(":")[2] for o in GOLDEN["outcomes"]}
    return key in keys or request["path"].endswith(CALLBACK_ROUTES)


REPLAYED = [r for r in GOLDEN["requests"] if stored(r)]


def load(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        for event in GOLDEN["events"]:
            conn.execute(
                "INSERT INTO chronicle_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, convert_to(%s, 'UTF8'))",
                (
                    event["originator_id"],
                    event["originator_version"],
                    event["topic"],
                    event["state"],
                ),
            )
        for outcome in GOLDEN["outcomes"]:
            conn.execute(
                "INSERT INTO command_idempotency (key, fingerprint, outcome) VALUES (%s, %s, %s)",
                (outcome["key"], outcome["fingerprint"], Jsonb(outcome["outcome"])),
            )


@pytest.fixture
def http(clean_dsn: str, settings: Settings) -> Iterator[tuple[TestClient, Any]]:
    load(clean_dsn)
    settings.public_base_url = "http://testserver"
    with services(settings, clean_dsn, run_projections=True) as built:
        with TestClient(create_app(built)) as client:
            yield client, built


def without_fresh(answer: Any) -> Any:
    """The answer without what every answer makes anew: a token, signed upload URLs."""
    if isinstance(answer, dict):
        return {
            k: "<fresh>" if k in ("token", "url") else without_fresh(v) for k, v in answer.items()
        }
    if isinstance(answer, list):
        return [without_fresh(v) for v in answer]
    return answer


def test_the_golden_file_holds_every_stored_shape() -> None:
    outcomes = [o["outcome"] for o in GOLDEN["outcomes"]]
    assert any("type" in o.get("error", {}) for o in outcomes)  # the first revision's errors
    assert any("code" in o.get("error", {}) for o in outcomes)
    progress = [o["result"]["progress"] for o in outcomes if "progress" in o.get("result", {})]
    assert any("succeeded" not in p for p in progress) and any("succeeded" in p for p in progress)
    assert len(REPLAYED) >= 20


@pytest.mark.parametrize(
    "request_",
    REPLAYED,
    ids=[f"{r['method']} {r['headers'].get('Idempotency-Key', r['path'][-9:])}" for r in REPLAYED],
)
def test_a_repeat_gets_the_first_answer(http: tuple[TestClient, Any], request_: dict) -> None:
    client, built = http
    headers = dict(request_["headers"])
    if request_["subject"] is not None:
        token = built.tokens.issue(request_["subject"], request_["role"])
        headers["Authorization"] = f"Bearer {token}"

    answer = client.request(
        request_["method"], request_["path"], content=request_["body"].encode(), headers=headers
    )

    assert answer.status_code == request_["status"], answer.text
    if "token" not in request_["answer"] and "uploads" not in request_["answer"]:
        assert answer.text == request_["answer"]  # byte for byte
    assert without_fresh(answer.json()) == without_fresh(json.loads(request_["answer"]))
    assert answer.headers.get("etag") == request_["etag"]
