"""The job pipeline with the S3 adapter, against moto's S3 server over real HTTP."""

import httpx
import pytest

from tests.conftest import on_s3
from tests.e2e.flows import bearer, create_job, fund, lease, ready_job, report, settle, sign_up


@pytest.fixture
def settings(settings, moto_endpoint):
    return on_s3(settings, moto_endpoint)


@pytest.fixture
def user(http, live_server):
    admin = bearer(live_server.services.tokens.issue("ann", "admin"))
    user_id, auth = sign_up(http)
    fund(http, admin, user_id, 90)
    return auth


def test_upload_urls_point_at_the_bucket(http, user, moto_endpoint):
    job = create_job(http, user, items=2).json()
    assert all(u["url"].startswith(moto_endpoint) for u in job["uploads"])


def test_confirming_a_partial_upload_names_the_missing_object(http, user):
    job = create_job(http, user, items=2).json()
    first = job["uploads"][0]
    httpx.put(first["url"], content=b"img", headers={"Content-Type": job["content_type"]})
    response = http.post(f"/jobs/{job['job_id']}/confirm-upload", headers=user)
    assert response.status_code == 409
    assert job["uploads"][1]["key"] in response.json()["error"]["message"]
    assert first["key"] not in response.json()["error"]["message"]


def test_a_job_runs_end_to_end_through_s3(http, user, live_server):
    worker = bearer(live_server.services.tokens.issue("gpu-1", "worker"))
    job = ready_job(http, user, items=2)
    for item in lease(http, worker):
        assert httpx.get(item["download_url"]).content.startswith(b"image-bytes-")
        httpx.put(
            item["result_upload_url"], content=b"{}", headers={"Content-Type": "application/json"}
        ).raise_for_status()
        report(http, worker, item).raise_for_status()
    settle(live_server.services)
    detail = http.get(f"/jobs/{job['job_id']}", headers=user).json()
    assert (detail["status"], detail["progress"]["done"]) == ("done", 2)
    assert all(live_server.services.object_store.exists(i["result_key"]) for i in detail["items"])
    assert http.get("/me", headers=user).json()["credits"] == 98
