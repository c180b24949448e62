"""Every POST route sent twice with one Idempotency-Key answers the second time as the first.

The routes come from the app itself: a new POST route fails `test_every_post_route_is_covered`
until it has a recipe here or a reason in ``NOT_IDEMPOTENT``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
import pytest

from api.app import create_app
from tests.e2e.flows import create_job, fund, lease, ready_job, sign_up, upload_all
from tests.unit.documents import document

# From the OpenAPI document: the app's route list nests included routers.
POST_ROUTES = sorted(
    path for path, operations in create_app().openapi()["paths"].items() if "post" in operations
)
NOT_IDEMPOTENT = {
    "/worker/leases": "a lease hands out the next free items: asking again asks for more work",
    "/admin/dead-letters/{letter_id}/retry": "a request to a reactor, not an event-sourced "
    "command: a repeat answers with the letter's state now (409 once it was delivered)",
    "/api/admin/tests/{test_id}/images": "a multipart upload, idempotent by content: the same "
    "bytes make the same key, and attaching it again records nothing",
    "/api/tests/{test_id}/compute": "anonymous visitors have no identity to scope a key to: "
    "each compute is one take",
}


@dataclass
class Request:
    """One POST to send twice, and what of its answer may differ between the two."""

    path: str
    headers: dict[str, str]
    json: Any = None
    volatile: Callable[[dict[str, Any]], dict[str, Any]] = field(default=lambda body: body)


def _without_token(body: dict[str, Any]) -> dict[str, Any]:
    # A repeat signs up the same user, but mints a fresh token for it (its own expiry).
    return {k: v for k, v in body.items() if k != "token"}


def _without_url_signatures(body: dict[str, Any]) -> dict[str, Any]:
    # Upload URLs of the same job are signed anew on each answer (their expiry moves on).
    uploads = [
        {**u, "url": urlsplit(u["url"])._replace(query="").geturl()} for u in body["uploads"]
    ]
    return {**body, "uploads": uploads}


def _without_part_signatures(body: dict[str, Any]) -> dict[str, Any]:
    # Part and download URLs of the same session are signed anew on each answer.
    parts = [
        {**u, "url": urlsplit(u["url"])._replace(query="").geturl()} for u in body["part_uploads"]
    ]
    download = body["download_url"] and urlsplit(body["download_url"])._replace(query="").geturl()
    return {**body, "part_uploads": parts, "download_url": download}


SMALL_FILE = {
    "size": 5,
    "content_type": "text/plain",
    "sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",  # b"hello"
}


def upload(http, admin, worker) -> Request:
    _, auth = sign_up(http)
    return Request("/uploads", auth, SMALL_FILE, volatile=_without_part_signatures)


def complete_upload(http, admin, worker) -> Request:
    _, auth = sign_up(http)
    session = http.post("/uploads", headers=auth, json=SMALL_FILE).raise_for_status().json()
    httpx.put(session["part_uploads"][0]["url"], content=b"hello").raise_for_status()
    path = f"/uploads/{session['session_id']}/complete"
    return Request(path, auth, volatile=_without_part_signatures)


def attach_upload(http, admin, worker) -> Request:
    _, auth = sign_up(http)
    typed = {**SMALL_FILE, "content_type": "image/jpeg"}  # the portrait preset's type
    session = http.post("/uploads", headers=auth, json=typed).raise_for_status().json()
    httpx.put(session["part_uploads"][0]["url"], content=b"hello").raise_for_status()
    path = f"/uploads/{session['session_id']}"
    http.post(f"{path}/complete", headers=auth).raise_for_status()
    job = create_job(http, auth, items=1).raise_for_status().json()
    body = {"job_id": job["job_id"], "item_index": 0}
    return Request(f"{path}/attach", auth, body, volatile=_without_part_signatures)


def anon(http, admin, worker) -> Request:
    return Request("/auth/anon", {}, volatile=_without_token)


def grant(http, admin, worker) -> Request:
    user_id, _ = sign_up(http)
    return Request(
        f"/admin/users/{user_id}/credits", admin, {"amount": 5, "reason": "idempotency test"}
    )


def rule(http, admin, worker) -> Request:
    _, auth = sign_up(http)
    return Request("/rules", auth, {"name": "r", "preset": "portrait", "params": {"a": 1}})


def job(http, admin, worker) -> Request:
    _, auth = sign_up(http)
    body = {"preset": "portrait", "item_count": 2}
    return Request("/jobs", auth, body, volatile=_without_url_signatures)


def confirm(http, admin, worker) -> Request:
    _, auth = sign_up(http)
    created = create_job(http, auth, items=2).raise_for_status().json()
    upload_all(http, created)
    return Request(f"/jobs/{created['job_id']}/confirm-upload", auth)


def execute(http, admin, worker) -> Request:
    _, auth = sign_up(http)
    created = create_job(http, auth, items=2).raise_for_status().json()
    upload_all(http, created)
    http.post(f"/jobs/{created['job_id']}/confirm-upload", headers=auth).raise_for_status()
    return Request(f"/jobs/{created['job_id']}/execute", auth)


def cancel(http, admin, worker) -> Request:
    _, auth = sign_up(http)
    created = create_job(http, auth, items=2).raise_for_status().json()
    return Request(f"/jobs/{created['job_id']}/cancel", auth)


def callback(http, admin, worker) -> Request:
    user_id, auth = sign_up(http)
    fund(http, admin, user_id, 10)
    ready = ready_job(http, auth, items=1)
    (item,) = [i for i in lease(http, worker) if i["job_id"] == ready["job_id"]]
    body = {
        "item_index": item["item_index"],
        "outcome": "succeeded",
        "result_key": item["result_key"],
        "idempotency_key": "cb-1",
    }
    return Request(f"/jobs/{item['job_id']}/callback", worker, body)


def callbacks(http, admin, worker) -> Request:
    single = callback(http, admin, worker)  # the batch's items are keyed each, as on that route
    return Request(f"{single.path}s", worker, {"items": [single.json]})


def create_test(http, admin, worker) -> Request:
    return Request("/api/admin/tests", admin, document())


def publish_test(http, admin, worker) -> Request:
    created = http.post("/api/admin/tests", headers=admin, json=document()).raise_for_status()
    return Request(f"/api/admin/tests/{created.json()['test_id']}/publish", admin)


def unpublish_test(http, admin, worker) -> Request:
    created = http.post("/api/admin/tests", headers=admin, json=document()).raise_for_status()
    test = f"/api/admin/tests/{created.json()['test_id']}"
    http.post(f"{test}/publish", headers=admin).raise_for_status()
    return Request(f"{test}/unpublish", admin)


RECIPES: dict[str, Callable[..., Request]] = {
    "/auth/anon": anon,
    "/admin/users/{user_id}/credits": grant,
    "/rules": rule,
    "/jobs": job,
    "/jobs/{job_id}/confirm-upload": confirm,
    "/jobs/{job_id}/execute": execute,
    "/jobs/{job_id}/cancel": cancel,
    "/jobs/{job_id}/callback": callback,
    "/jobs/{job_id}/callbacks": callbacks,
    "/api/admin/tests": create_test,
    "/api/admin/tests/{test_id}/publish": publish_test,
    "/api/admin/tests/{test_id}/unpublish": unpublish_test,
    "/uploads": upload,
    "/uploads/{session_id}/complete": complete_upload,
    "/uploads/{session_id}/attach": attach_upload,
}


def test_every_post_route_is_covered():
    uncovered = [p for p in POST_ROUTES if p not in RECIPES and p not in NOT_IDEMPOTENT]
    assert uncovered == [], "add a recipe (or a reason in NOT_IDEMPOTENT) for these routes"
    assert set(RECIPES) | set(NOT_IDEMPOTENT) == set(POST_ROUTES)


@pytest.mark.parametrize("route", sorted(RECIPES))
def test_a_post_repeated_with_one_key_answers_as_the_first_time(
    route: str, http: httpx.Client, admin, worker
):
    request = RECIPES[route](http, admin, worker)
    headers = {**request.headers, "Idempotency-Key": f"key-{uuid4()}"}
    first = http.post(request.path, headers=headers, json=request.json)
    second = http.post(request.path, headers=headers, json=request.json)
    assert first.status_code < 300, first.text
    assert second.status_code == first.status_code, second.text
    assert request.volatile(second.json()) == request.volatile(first.json())
