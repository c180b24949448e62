"""Test images over HTTP (``GET /assets/{key}``), from the local store and from S3 (moto)."""

import hashlib

import pytest

from domain.images import image_key
from tests.conftest import on_s3

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
GIF = b"GIF89a" + b"\x01" * 16
JOB_UPLOAD = "uploads/5c0b3c1e-1f0e-4b59-9a7e-4f7c9b3f0a11/0d5e2f6a-3b4c-4d8e-9f01-23456789abcd/0"


@pytest.fixture(params=["local", "s3"])
def settings(settings, request):
    """The suite's settings, with the objects in a local directory or in a moto S3 bucket."""
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        on_s3(settings, endpoint)
    return settings


@pytest.fixture
def store(live_server):
    return live_server.services.object_store


def stored(store, data, extension, content_type):
    key = image_key(data, extension)
    store.put(key, data, content_type)
    return key


def test_an_image_is_served_with_its_type_hash_and_a_cache_forever_header(http, store):
    key = stored(store, PNG, "png", "image/png")

    response = http.get(f"/assets/{key}")

    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["etag"] == f'"{hashlib.sha256(PNG).hexdigest()}"'
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_content_type_follows_the_keys_extension(http, store):
    key = stored(store, GIF, "gif", "application/octet-stream")

    assert http.get(f"/assets/{key}").headers["content-type"] == "image/gif"


def test_if_none_match_naming_the_hash_answers_304(http, store):
    key = stored(store, PNG, "png", "image/png")
    etag = f'"{hashlib.sha256(PNG).hexdigest()}"'

    for if_none_match in [etag, f"W/{etag}", f'"other", {etag}', "*"]:
        response = http.get(f"/assets/{key}", headers={"If-None-Match": if_none_match})
        assert response.status_code == 304, if_none_match
        assert response.content == b""
        assert response.headers["etag"] == etag
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_an_image_key_with_nothing_stored_is_404_even_with_if_none_match(http):
    key = image_key(b"never stored", "png")
    etag = f'"{hashlib.sha256(b"never stored").hexdigest()}"'

    assert http.get(f"/assets/{key}").status_code == 404
    assert http.get(f"/assets/{key}", headers={"If-None-Match": etag}).status_code == 404


NOT_IMAGE_KEYS = [
    JOB_UPLOAD,  # stored, but a user's job upload: never served here
    "images/%2e%2e/" + JOB_UPLOAD,
    "images/../" + JOB_UPLOAD,
    "%2e%2e/%2e%2e/etc/passwd",
    "/etc/passwd",
    "images/{hash}.svg",
    "images/{hash}.PNG",
    "images/{upper}.png",
    "images/{hash}.png/",
    "images/sub/{hash}.png",
    "images/{hash}",
]


def test_keys_that_are_no_image_keys_are_404(http, store):
    store.put(JOB_UPLOAD, PNG, "image/png")
    digest = hashlib.sha256(PNG).hexdigest()
    stored(store, PNG, "png", "image/png")

    answers = {
        path: http.get("/assets/" + path.format(hash=digest, upper=digest.upper()))
        for path in NOT_IMAGE_KEYS
    }

    assert {path: r.status_code for path, r in answers.items()} == dict.fromkeys(answers, 404)
    assert {r.json()["error"]["code"] for r in answers.values()} == {"not_found"}
