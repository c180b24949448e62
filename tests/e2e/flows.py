"""HTTP steps shared by the job tests: sign up, fund, create, upload, lease, report."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg

from projections.engine.runner import read_position


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_up(http: httpx.Client) -> tuple[str, dict[str, str]]:
    body = http.post("/auth/anon").raise_for_status().json()
    return body["user_id"], bearer(body["token"])


def fund(http: httpx.Client, admin: dict[str, str], user_id: str, credits: int, plan="pro") -> int:
    """Put ``user_id`` on ``plan`` with ``credits`` more; the last command's position."""
    http.put(f"/admin/users/{user_id}/plan", headers=admin, json={"plan": plan}).raise_for_status()
    grant = http.post(
        f"/admin/users/{user_id}/credits", headers=admin, json={"amount": credits, "reason": "test"}
    )
    return grant.raise_for_status().json()["position"]


def create_job(http: httpx.Client, auth: dict[str, str], preset="portrait", items=3) -> Any:
    return http.post("/jobs", headers=auth, json={"preset": preset, "item_count": items})


def upload_all(http: httpx.Client, job: dict[str, Any]) -> None:
    for upload in job["uploads"]:
        response = http.put(
            upload["url"],
            content=b"image-bytes-%d" % upload["index"],
            headers={"Content-Type": job["content_type"]},
        )
        response.raise_for_status()


def ready_job(http: httpx.Client, auth: dict[str, str], preset="portrait", items=3) -> dict:
    """A job created, uploaded and queued, and the read models past its queueing."""
    job = create_job(http, auth, preset, items).raise_for_status().json()
    upload_all(http, job)
    http.post(f"/jobs/{job['job_id']}/confirm-upload", headers=auth).raise_for_status()
    queued = http.post(f"/jobs/{job['job_id']}/execute", headers=auth).raise_for_status().json()
    http.get(
        f"/jobs/{job['job_id']}", headers=auth, params={"min_position": queued["position"]}
    ).raise_for_status()
    return {**job, "position": queued["position"]}


def lease(http: httpx.Client, worker: dict[str, str], max_items=100) -> list[dict[str, Any]]:
    response = http.post("/worker/leases", headers=worker, json={"max_items": max_items})
    return response.raise_for_status().json()["items"]


def report_body(item: dict[str, Any], outcome="succeeded", key: str | None = None) -> dict:
    """A leased item's report, as both callback routes take it."""
    body = {
        "item_index": item["item_index"],
        "outcome": outcome,
        "idempotency_key": key or f"cb-{item['job_id']}-{item['item_index']}",
    }
    if outcome == "succeeded":
        body["result_key"] = item["result_key"]
    else:
        body["error"] = "model crashed"
    return body


def report(
    http: httpx.Client,
    worker: dict[str, str],
    item: dict[str, Any],
    outcome="succeeded",
    key: str | None = None,
) -> httpx.Response:
    body = report_body(item, outcome, key)
    return http.post(f"/jobs/{item['job_id']}/callback", headers=worker, json=body)


def wait_projected(services: Any, names: list[str], timeout: float = 30) -> None:
    """Wait until ``names`` reached the newest event (the log head now)."""
    from projections.engine.log import log_head

    head = log_head(services.reads)
    assert services.watcher.wait_for_position(names, head, timeout), (
        f"{names} did not reach {head}: {positions(services, names)}"
    )


def positions(services: Any, names: list[str]) -> dict[str, int]:
    with psycopg.connect(services.dsn) as conn:
        return {n: read_position(conn, n) for n in names}


def settle(services: Any) -> None:
    """Wait for the saga to settle what the log holds, then for the read models to follow."""
    wait_projected(services, ["jobs", "job_settlement"])
    wait_projected(services, ["user_summary", "credit_ledger", "jobs"])
