"""The local object store: files under a root, keys that cannot escape it, signed URLs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.storage import LocalObjectStore
from domain.errors import Forbidden, InvalidCommand, NotFound

BASE_URL = "http://api.example"
SECRET = "test-secret"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "objects"


@pytest.fixture
def store(root: Path, clock: Clock) -> LocalObjectStore:
    return LocalObjectStore(root, BASE_URL, SECRET, clock=clock)


def upload_params(url: str) -> tuple[str, int, str, str]:
    """The key, expiry, content type and signature an upload route would read from the URL."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query, strict_parsing=True).items()}
    key = parts.path.removeprefix("/storage/upload/")
    return key, int(query["expires"]), query["content_type"], query["signature"]


def download_params(url: str) -> tuple[str, int, str]:
    """The key, expiry and signature a download route would read from the URL."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query, strict_parsing=True).items()}
    key = parts.path.removeprefix("/storage/objects/")
    return key, int(query["expires"]), query["signature"]


def signed_png(store: LocalObjectStore) -> tuple[str, int, str, str]:
    """The upload parameters of a one-minute URL for ``a.png`` as ``image/png``."""
    return upload_params(store.presign_put("a.png", "image/png", 60))


def test_put_then_get_returns_the_same_bytes(store: LocalObjectStore) -> None:
    store.put("tests/t1/thumb.png", b"\x89PNG data", "image/png")

    assert store.get("tests/t1/thumb.png") == b"\x89PNG data"


def test_put_replaces_the_previous_object(store: LocalObjectStore) -> None:
    store.put("a.txt", b"old", "text/plain")

    store.put("a.txt", b"new", "text/plain")

    assert store.get("a.txt") == b"new"


def test_put_leaves_only_the_object_in_its_directory(store: LocalObjectStore, root: Path) -> None:
    store.put("dir/a.txt", b"x", "text/plain")

    assert [p.name for p in (root / "dir").iterdir()] == ["a.txt"]


def test_exists_sees_a_stored_object_only(store: LocalObjectStore) -> None:
    store.put("dir/a.txt", b"x", "text/plain")

    assert (store.exists("dir/a.txt"), store.exists("dir/b.txt"), store.exists("dir")) == (
        True,
        False,
        False,
    )


def test_get_of_a_missing_object_raises_not_found(store: LocalObjectStore) -> None:
    with pytest.raises(NotFound, match="nothing.bin"):
        store.get("nothing.bin")


def test_missing_lists_the_absent_keys_in_order(store: LocalObjectStore) -> None:
    store.put("b", b"1", "text/plain")
    store.put("d/e", b"2", "text/plain")

    assert store.missing(["c", "b", "a", "d/e", "d"]) == ["c", "a", "d"]


ESCAPING_KEYS = [
    "../x",
    "/etc/passwd",
    "a/../../x",
    "a/./b",
    "a//b",
    "a/",
    "a\x00b",
    "",
    "..\\x",
    "a\\b",
    "%2e%2e/x",
    "\uff0e\uff0e/x",
    "caf\u00e9",
    ".hidden",
    "a" * 1025,
]


@pytest.mark.parametrize("key", ESCAPING_KEYS)
@pytest.mark.parametrize(
    "use",
    [
        lambda s, k: s.put(k, b"x", "text/plain"),
        lambda s, k: s.get(k),
        lambda s, k: s.exists(k),
        lambda s, k: s.missing(["ok", k]),
        lambda s, k: s.presign_put(k, "text/plain", 60),
        lambda s, k: s.presign_get(k, 60),
        lambda s, k: s.verify_download(k, 1_700_000_060, "0" * 64),
        lambda s, k: s.content_type(k),
    ],
    ids=["put", "get", "exists", "missing", "presign_put", "presign_get", "verify", "type"],
)
def test_a_key_that_could_escape_the_root_is_refused(
    store: LocalObjectStore, key: str, use: Callable[[LocalObjectStore, str], object]
) -> None:
    with pytest.raises(InvalidCommand) as refused:
        use(store, key)

    assert repr(key[:64]) in refused.value.message


def test_a_key_through_a_symlinked_directory_outside_the_root_is_refused(
    store: LocalObjectStore, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root.mkdir()
    (root / "link").symlink_to(outside)

    with pytest.raises(InvalidCommand, match="link/new.txt"):
        store.put("link/new.txt", b"x", "text/plain")

    assert list(outside.iterdir()) == []


def test_a_key_that_is_a_symlink_to_a_file_outside_the_root_is_refused(
    store: LocalObjectStore, root: Path, tmp_path: Path
) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("secret")
    root.mkdir()
    (root / "leak.txt").symlink_to(secret_file)

    with pytest.raises(InvalidCommand, match="leak.txt"):
        store.get("leak.txt")


def test_a_bad_content_type_is_refused(store: LocalObjectStore) -> None:
    with pytest.raises(InvalidCommand, match="content type"):
        store.put("a.txt", b"x", "text/plain\r\nX-Injected: 1")


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


def test_content_type_is_the_one_stored_last(store: LocalObjectStore) -> None:
    store.put("dir/a", b"x", "text/plain")
    store.put("dir/a", b"{}", "application/json")

    assert store.content_type("dir/a") == "application/json"


def test_content_type_of_an_object_stored_without_one_is_octet_stream(
    store: LocalObjectStore, root: Path
) -> None:
    root.mkdir()
    (root / "legacy.bin").write_bytes(b"x")

    assert store.content_type("legacy.bin") == "application/octet-stream"


def test_content_type_of_a_missing_object_raises_not_found(store: LocalObjectStore) -> None:
    with pytest.raises(NotFound, match="nothing.bin"):
        store.content_type("nothing.bin")


def test_content_types_are_kept_outside_the_key_space(store: LocalObjectStore, root: Path) -> None:
    store.put("a.txt", b"x", "text/plain")

    assert sorted(p.name for p in root.iterdir()) == [".meta", "a.txt"]


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
