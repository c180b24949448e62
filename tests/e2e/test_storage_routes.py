"""The local object store over HTTP: presigned uploads and downloads through the API."""

import dataclasses
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from adapters.storage import LocalObjectStore, S3ObjectStore
from api.app import create_app
from tests.conftest import TEST_SECRET

UPLOAD_LIMIT = 1024


@pytest.fixture
def settings(settings):
    """The suite's settings with a small upload limit, so an oversize body stays cheap."""
    return settings.model_copy(update={"upload_max_bytes": UPLOAD_LIMIT})


def local(url, settings):
    """The path and query of a URL the store issued, for the test client."""
    assert url.startswith(f"{settings.public_base_url}/storage/")
    return url.removeprefix(settings.public_base_url)


def upload(client, running, key, data, content_type="image/png"):
    url = local(running.object_store.presign_put(key, content_type, 60), running.settings)
    return client.put(url, content=data, headers={"Content-Type": content_type})


def download_url(running, key):
    return local(running.object_store.presign_get(key, 60), running.settings)


def signed_an_hour_ago(settings):
    """A store with the API's root and secret whose clock is an hour behind."""
    root = settings.storage_dir
    return LocalObjectStore(
        root, settings.public_base_url, TEST_SECRET, clock=lambda: time.time() - 3600
    )


def with_query(url, **changes):
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()} | changes
    return parts.path, query


def test_an_upload_answers_the_key_and_size(client, running):
    response = upload(client, running, "tests/t1/thumb.png", b"\x89PNG data")

    assert response.status_code == 200
    assert response.json() == {"key": "tests/t1/thumb.png", "size": 9}


def test_an_uploaded_object_downloads_with_its_content_type(client, running):
    upload(client, running, "tests/t1/thumb.png", b"\x89PNG data")

    response = client.get(download_url(running, "tests/t1/thumb.png"))

    assert response.status_code == 200
    assert response.content == b"\x89PNG data"
    assert response.headers["content-type"] == "image/png"


def test_a_download_is_never_sniffed_nor_run_as_a_page(client, running):
    upload(client, running, "page.html", b"<script>alert(1)</script>", "text/html")

    response = client.get(download_url(running, "page.html"))

    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "sandbox"


def test_an_upload_with_another_content_type_is_forbidden(client, running):
    url = local(running.object_store.presign_put("a.png", "image/png", 60), running.settings)

    response = client.put(url, content=b"<html>", headers={"Content-Type": "text/html"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert not running.object_store.exists("a.png")


def test_an_upload_with_a_tampered_signature_is_forbidden(client, running):
    url = local(running.object_store.presign_put("a.png", "image/png", 60), running.settings)
    path, query = with_query(url, signature="0" * 64)

    response = client.put(path, params=query, content=b"x", headers={"Content-Type": "image/png"})

    assert response.status_code == 403
    assert not running.object_store.exists("a.png")


def test_a_download_with_a_tampered_signature_is_forbidden(client, running):
    upload(client, running, "a.png", b"x")
    path, query = with_query(download_url(running, "a.png"), signature="0" * 64)

    response = client.get(path, params=query)

    assert response.status_code == 403


def test_an_expired_upload_url_is_forbidden(client, running, settings):
    url = local(signed_an_hour_ago(settings).presign_put("a.png", "image/png", 60), settings)

    response = client.put(url, content=b"x", headers={"Content-Type": "image/png"})

    assert response.status_code == 403
    assert "expired" in response.json()["error"]["message"]


def test_an_expired_download_url_is_forbidden(client, running, settings):
    upload(client, running, "a.png", b"x")
    url = local(signed_an_hour_ago(settings).presign_get("a.png", 60), settings)

    response = client.get(url)

    assert response.status_code == 403
    assert "expired" in response.json()["error"]["message"]


def test_an_upload_signature_used_for_a_download_is_forbidden(client, running):
    upload(client, running, "a.png", b"x")
    put_url = local(running.object_store.presign_put("a.png", "image/png", 60), running.settings)
    _, query = with_query(put_url)

    response = client.get(
        "/storage/objects/a.png",
        params={"expires": query["expires"], "signature": query["signature"]},
    )

    assert response.status_code == 403


def test_a_body_over_the_limit_is_refused_with_413(client, running):
    response = upload(client, running, "big.bin", b"x" * (UPLOAD_LIMIT + 1))

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not running.object_store.exists("big.bin")


def test_a_streamed_body_over_the_limit_is_refused_with_413(client, running):
    url = local(running.object_store.presign_put("big.bin", "image/png", 60), running.settings)
    chunks = (b"x" * 512 for _ in range(4))  # no Content-Length: sent chunked

    response = client.put(url, content=chunks, headers={"Content-Type": "image/png"})

    assert response.status_code == 413
    assert not running.object_store.exists("big.bin")


def test_a_body_at_the_limit_is_stored(client, running):
    response = upload(client, running, "full.bin", b"x" * UPLOAD_LIMIT)

    assert response.status_code == 200 and running.object_store.exists("full.bin")


def test_a_download_of_a_missing_object_is_not_found(client, running):
    response = client.get(download_url(running, "never-uploaded.png"))

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


ESCAPING_PATHS = [
    "..%2Fescape.txt",
    "%2e%2e/escape.txt",
    "a/%2e%2e/%2e%2e/escape.txt",
    "a/%2e%2e/%2e%2e/%2e%2e/escape.txt",
    "%2Fetc%2Fescape.txt",
    "..%5Cescape.txt",
    ".hidden",
    "a//escape.txt",
    "",
]


@pytest.mark.parametrize("path", ESCAPING_PATHS)
def test_an_upload_to_a_key_escaping_the_root_is_refused(client, tmp_path: Path, path):
    params = {"expires": int(time.time()) + 60, "content_type": "text/plain", "signature": "0" * 64}

    response = client.put(
        f"/storage/upload/{path}",
        params=params,
        content=b"escaped",
        headers={"Content-Type": "text/plain"},
    )

    # The route is reached (the client sends the encoded path as it is) and refuses the key
    # before looking at the signature: it can never name an object.
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_command"
    assert response.json()["error"]["message"].startswith("invalid object key")
    assert list(tmp_path.rglob("*escape*")) == []
    assert not (tmp_path.parent / "escape.txt").exists()


@pytest.mark.parametrize("path", ESCAPING_PATHS)
def test_a_download_of_a_key_escaping_the_root_is_refused(client, path):
    params = {"expires": int(time.time()) + 60, "signature": "0" * 64}

    response = client.get(f"/storage/objects/{path}", params=params)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_command"
    assert response.json()["error"]["message"].startswith("invalid object key")


def test_the_routes_are_not_found_when_the_store_is_s3(running):
    s3 = S3ObjectStore("bucket", "http://127.0.0.1:9", "auto", "key", "secret", max_attempts=1)
    app = create_app(dataclasses.replace(running, object_store=s3))

    with TestClient(app) as http:
        put = http.put(
            "/storage/upload/a.png",
            params={"expires": 1, "content_type": "image/png", "signature": "x"},
        )
        get = http.get("/storage/objects/a.png", params={"expires": 1, "signature": "x"})

    assert (put.status_code, get.status_code) == (404, 404)
    assert "directly to the S3 store" in put.json()["error"]["message"]
