"""The local object store's objects: files under a root with their content types, and
keys that cannot escape the root, by their spelling or through a symlink."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.storage import LocalObjectStore
from domain.errors import InvalidCommand, NotFound
from tests.unit.localstore import (
    clock_fixture,  # noqa: F401  (a fixture)
    root_fixture,  # noqa: F401  (a fixture)
    store_fixture,  # noqa: F401  (a fixture)
)


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
