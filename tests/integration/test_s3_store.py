"""The S3 adapter over real HTTP against moto's threaded S3 server."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from botocore.exceptions import BotoCoreError, ClientError

from adapters.storage import S3ObjectStore
from domain.errors import InvalidCommand, NotFound, ObjectStoreUnavailable
from tests.conftest import create_bucket

REGION = "auto"  # Chronicle's default (R2's region); moto accepts it for object calls.


@pytest.fixture(scope="module")
def endpoint(moto_endpoint: str) -> str:
    return moto_endpoint


@pytest.fixture(scope="module")
def bucket(endpoint: str) -> str:
    """A fresh bucket shared by this module's tests, which use distinct keys."""
    return create_bucket(endpoint)


def make_store(bucket: str, endpoint: str) -> S3ObjectStore:
    return S3ObjectStore(
        bucket, endpoint, REGION, "testing", "testing", path_style=True, max_attempts=1
    )


@pytest.fixture(scope="module")
def store(bucket: str, endpoint: str) -> S3ObjectStore:
    return make_store(bucket, endpoint)


@pytest.fixture(scope="module")
def unreachable_store() -> Iterator[S3ObjectStore]:
    """A store whose endpoint port is bound but not listening, so every connection is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield make_store("any-bucket", f"http://127.0.0.1:{sock.getsockname()[1]}")


@pytest.fixture(scope="module")
def bucketless_store(endpoint: str) -> S3ObjectStore:
    return make_store("no-such-bucket", endpoint)


def stored_content_type(store: S3ObjectStore, bucket: str, key: str) -> str:
    head = store._client.head_object(Bucket=bucket, Key=key)
    return str(head["ContentType"])


def test_a_presigned_put_stores_the_object(store: S3ObjectStore, bucket: str) -> None:
    url = store.presign_put("tests/t1/thumb.png", "image/png", 60)

    response = httpx.put(url, content=b"\x89PNG data", headers={"Content-Type": "image/png"})

    assert response.status_code == 200
    assert store.exists("tests/t1/thumb.png")
    assert store.missing(["tests/t1/thumb.png", "tests/t1/other.png"]) == ["tests/t1/other.png"]
    assert store.get("tests/t1/thumb.png") == b"\x89PNG data"
    assert stored_content_type(store, bucket, "tests/t1/thumb.png") == "image/png"


def test_a_presigned_put_signs_the_content_type_and_expiry(store: S3ObjectStore) -> None:
    url = store.presign_put("a.png", "image/png", 60)

    query = parse_qs(urlsplit(url).query)

    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "content-type" in query["X-Amz-SignedHeaders"][0].split(";")
    assert query["X-Amz-Expires"] == ["60"]


def test_moto_does_not_enforce_the_signed_content_type(store: S3ObjectStore, bucket: str) -> None:
    # S3, R2 and MinIO answer 403 SignatureDoesNotMatch here, because content-type is a signed
    # header (asserted above). moto 5.2 verifies no presigned URL at all (its optional auth only
    # reads the Authorization header), so it stores the object under the wrong type. If this test
    # starts failing, moto enforces the signature: assert the 403 instead.
    url = store.presign_put("a.png", "image/png", 60)

    response = httpx.put(url, content=b"<html>", headers={"Content-Type": "text/html"})

    assert response.status_code == 200
    assert stored_content_type(store, bucket, "a.png") == "text/html"


def test_a_presigned_get_returns_the_object(store: S3ObjectStore) -> None:
    store.put("tests/t1/result.json", b'{"ok": true}', "application/json")
    url = store.presign_get("tests/t1/result.json", 60)

    response = httpx.get(url)

    assert response.status_code == 200
    assert response.content == b'{"ok": true}'
    assert response.headers["content-type"] == "application/json"


def test_a_presigned_get_is_a_signed_url_with_the_expiry(store: S3ObjectStore) -> None:
    url = store.presign_get("a.png", 120)

    query = parse_qs(urlsplit(url).query)

    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["120"]


def test_a_presigned_get_of_a_missing_object_answers_404(store: S3ObjectStore) -> None:
    response = httpx.get(store.presign_get("never-stored.bin", 60))

    assert response.status_code == 404


def test_put_then_get_returns_the_same_bytes(store: S3ObjectStore) -> None:
    store.put("dir/a.bin", b"\x00\x01\x02", "application/octet-stream")

    assert store.get("dir/a.bin") == b"\x00\x01\x02"


def test_get_of_a_missing_object_raises_not_found(store: S3ObjectStore) -> None:
    with pytest.raises(NotFound, match="nothing.bin"):
        store.get("nothing.bin")


def test_missing_lists_the_absent_keys_in_order(store: S3ObjectStore) -> None:
    keys = [f"k{i}" for i in range(12)]
    for key in keys[::3]:
        store.put(key, b"x", "text/plain")

    assert store.missing(keys) == [key for i, key in enumerate(keys) if i % 3]


def test_an_escaping_key_is_refused_before_any_request(unreachable_store: S3ObjectStore) -> None:
    with pytest.raises(InvalidCommand, match=r"\.\./x"):
        unreachable_store.put("../x", b"x", "text/plain")


def test_an_escaping_key_is_never_presigned_for_download(store: S3ObjectStore) -> None:
    with pytest.raises(InvalidCommand, match=r"\.\./x"):
        store.presign_get("../x", 60)


@pytest.mark.parametrize(
    "use",
    [
        lambda s: s.put("a.txt", b"x", "text/plain"),
        lambda s: s.get("a.txt"),
        lambda s: s.exists("a.txt"),
        lambda s: s.missing(["a.txt", "b.txt"]),
        lambda s: s.check(),
    ],
    ids=["put", "get", "exists", "missing", "check"],
)
def test_an_unreachable_endpoint_raises_storage_unavailable(
    unreachable_store: S3ObjectStore, use: Callable[[S3ObjectStore], object]
) -> None:
    with pytest.raises(ObjectStoreUnavailable, match="any-bucket") as raised:
        use(unreachable_store)

    assert isinstance(raised.value.__cause__, BotoCoreError)


@pytest.mark.parametrize(
    "use",
    [lambda s: s.put("a.txt", b"x", "text/plain"), lambda s: s.get("a.txt"), lambda s: s.check()],
    ids=["put", "get", "check"],
)
def test_a_nonexistent_bucket_raises_storage_unavailable(
    bucketless_store: S3ObjectStore, use: Callable[[S3ObjectStore], object]
) -> None:
    with pytest.raises(ObjectStoreUnavailable, match="does not exist") as raised:
        use(bucketless_store)

    assert isinstance(raised.value.__cause__, ClientError)


def test_exists_in_a_nonexistent_bucket_is_false(bucketless_store: S3ObjectStore) -> None:
    # A HEAD answer has no body, so a missing bucket and a missing key are the same 404;
    # check() (HEAD on the bucket) is how to tell them apart.
    assert bucketless_store.exists("a.txt") is False
