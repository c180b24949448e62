"""The local object store's signed URLs: upload and download URLs to the API's routes that
verify, and are refused once tampered with, moved, extended, expired or swapped."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.storage import LocalObjectStore
from domain.errors import Forbidden
from tests.unit.localstore import (
    BASE_URL,
    SECRET,
    Clock,
    clock_fixture,  # noqa: F401  (a fixture)
    download_params,
    root_fixture,  # noqa: F401  (a fixture)
    signed_png,
    store_fixture,  # noqa: F401  (a fixture)
    upload_params,
)


def test_presign_put_points_at_the_api_upload_route(store: LocalObjectStore) -> None:
    url = store.presign_put("tests/t1/thumb.png", "image/png", 900)

    assert url.startswith(f"{BASE_URL}/storage/upload/tests/t1/thumb.png?")
    assert upload_params(url)[:3] == ("tests/t1/thumb.png", 1_700_000_900, "image/png")


def test_a_presigned_upload_verifies(store: LocalObjectStore) -> None:
    url = store.presign_put("tests/t1/thumb.png", "image/png", 900)

    store.verify_upload(*upload_params(url))


def test_a_tampered_signature_is_forbidden(store: LocalObjectStore) -> None:
    key, expires, content_type, signature = signed_png(store)
    tampered = ("0" if signature[0] != "0" else "1") + signature[1:]

    with pytest.raises(Forbidden, match="not valid"):
        store.verify_upload(key, expires, content_type, tampered)


def test_a_url_moved_to_another_key_is_forbidden(store: LocalObjectStore) -> None:
    _, expires, content_type, signature = signed_png(store)

    with pytest.raises(Forbidden):
        store.verify_upload("b.png", expires, content_type, signature)


def test_an_extended_expiry_is_forbidden(store: LocalObjectStore) -> None:
    key, expires, content_type, signature = signed_png(store)

    with pytest.raises(Forbidden):
        store.verify_upload(key, expires + 3600, content_type, signature)


def test_an_expired_upload_is_forbidden(store: LocalObjectStore, clock: Clock) -> None:
    params = signed_png(store)
    clock.now += 61

    with pytest.raises(Forbidden, match="expired"):
        store.verify_upload(*params)


def test_an_upload_with_another_content_type_is_forbidden(store: LocalObjectStore) -> None:
    key, expires, _, signature = signed_png(store)

    with pytest.raises(Forbidden):
        store.verify_upload(key, expires, "text/html", signature)


def test_a_signature_from_another_secret_is_forbidden(root: Path, clock: Clock) -> None:
    other = LocalObjectStore(root, BASE_URL, "other-secret", clock=clock)
    params = upload_params(other.presign_put("a.png", "image/png", 60))
    store = LocalObjectStore(root, BASE_URL, SECRET, clock=clock)

    with pytest.raises(Forbidden):
        store.verify_upload(*params)


def test_a_non_ascii_signature_is_forbidden(store: LocalObjectStore) -> None:
    key, expires, content_type, _ = signed_png(store)

    with pytest.raises(Forbidden):
        store.verify_upload(key, expires, content_type, "\u00e9" * 64)


def test_presign_get_points_at_the_api_download_route(store: LocalObjectStore) -> None:
    url = store.presign_get("tests/t1/thumb.png", 900)

    assert url.startswith(f"{BASE_URL}/storage/objects/tests/t1/thumb.png?")
    assert download_params(url)[:2] == ("tests/t1/thumb.png", 1_700_000_900)


def test_a_presigned_download_verifies(store: LocalObjectStore) -> None:
    url = store.presign_get("tests/t1/thumb.png", 900)

    store.verify_download(*download_params(url))


def test_a_tampered_download_signature_is_forbidden(store: LocalObjectStore) -> None:
    key, expires, signature = download_params(store.presign_get("a.png", 60))
    tampered = ("0" if signature[0] != "0" else "1") + signature[1:]

    with pytest.raises(Forbidden, match="download URL .* not valid"):
        store.verify_download(key, expires, tampered)


def test_a_download_url_moved_to_another_key_is_forbidden(store: LocalObjectStore) -> None:
    _, expires, signature = download_params(store.presign_get("a.png", 60))

    with pytest.raises(Forbidden):
        store.verify_download("b.png", expires, signature)


def test_an_extended_download_expiry_is_forbidden(store: LocalObjectStore) -> None:
    key, expires, signature = download_params(store.presign_get("a.png", 60))

    with pytest.raises(Forbidden):
        store.verify_download(key, expires + 3600, signature)


def test_an_expired_download_is_forbidden(store: LocalObjectStore, clock: Clock) -> None:
    params = download_params(store.presign_get("a.png", 60))
    clock.now += 61

    with pytest.raises(Forbidden, match="expired"):
        store.verify_download(*params)


def test_an_upload_signature_is_not_a_download_signature(store: LocalObjectStore) -> None:
    key, expires, _, signature = signed_png(store)

    with pytest.raises(Forbidden):
        store.verify_download(key, expires, signature)


def test_a_download_signature_is_not_an_upload_signature(store: LocalObjectStore) -> None:
    key, expires, signature = download_params(store.presign_get("a.png", 60))

    with pytest.raises(Forbidden):
        store.verify_upload(key, expires, "image/png", signature)
