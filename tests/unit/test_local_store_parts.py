"""The local object store's multipart uploads: parts on disk, signed part URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.storage import LocalObjectStore
from domain.errors import Forbidden, InvalidCommand, NotFound
from domain.uploadsession import StoredPart
from tests.unit.localstore import (
    Clock,
    clock_fixture,  # noqa: F401  (a fixture)
    root_fixture,  # noqa: F401  (a fixture)
    store_fixture,  # noqa: F401  (a fixture)
)

KEY = "files/u/s"


def signed(url: str) -> tuple[str, int, str]:
    query = parse_qs(urlsplit(url).query)
    return query["key"][0], int(query["expires"][0]), query["signature"][0]


def test_parts_are_listed_with_size_and_etag_and_assembled_in_order(
    store: LocalObjectStore,
) -> None:
    upload = store.create_multipart_upload(KEY, "text/plain")
    second = store.write_part(KEY, upload, 2, [b"world"])
    first = store.write_part(KEY, upload, 1, [b"hello ", b""])

    listed = store.list_parts(KEY, upload)
    store.complete_multipart_upload(KEY, upload, listed)

    assert listed == [first, second]
    assert first == StoredPart(1, 6, first.etag) and first.etag.startswith('"')
    assert store.get(KEY) == b"hello world"
    assert store.content_type(KEY) == "text/plain"
    assert b"".join(store.read_chunks(KEY, 4)) == b"hello world"
    assert store.multipart_uploads() == []


def test_complete_refuses_a_part_whose_etag_is_not_the_stored_one(
    store: LocalObjectStore,
) -> None:
    upload = store.create_multipart_upload(KEY, "text/plain")
    store.write_part(KEY, upload, 1, [b"one"])

    with pytest.raises(InvalidCommand, match="part 1"):
        store.complete_multipart_upload(KEY, upload, [StoredPart(1, 3, '"other"')])


def test_abort_drops_the_parts_and_is_harmless_twice(store: LocalObjectStore) -> None:
    upload = store.create_multipart_upload(KEY, "text/plain")
    store.write_part(KEY, upload, 1, [b"one"])

    store.abort_multipart_upload(KEY, upload)
    store.abort_multipart_upload(KEY, upload)

    assert store.multipart_uploads() == []
    with pytest.raises(NotFound):
        store.list_parts(KEY, upload)
    with pytest.raises(NotFound):
        store.write_part(KEY, upload, 1, [b"late"])


def test_an_upload_answers_only_for_its_own_key(store: LocalObjectStore) -> None:
    upload = store.create_multipart_upload(KEY, "text/plain")

    with pytest.raises(NotFound):
        store.list_parts("files/u/other", upload)
    with pytest.raises(NotFound):
        store.list_parts(KEY, "../../etc")


def test_a_part_url_is_signed_for_its_key_upload_and_number(
    store: LocalObjectStore, clock: Clock
) -> None:
    upload = store.create_multipart_upload(KEY, "text/plain")
    url = store.presign_upload_part(KEY, upload, 3, 60)
    key, expires, signature = signed(url)

    store.verify_part_upload(key, upload, 3, expires, signature)
    assert f"/storage/parts/{upload}/3?" in url
    with pytest.raises(Forbidden):
        store.verify_part_upload(key, upload, 4, expires, signature)
    with pytest.raises(Forbidden):
        store.verify_part_upload("files/u/other", upload, 3, expires, signature)
    clock.now += 61
    with pytest.raises(Forbidden, match="expired"):
        store.verify_part_upload(key, upload, 3, expires, signature)


def test_delete_removes_the_object_and_ignores_a_missing_one(store: LocalObjectStore) -> None:
    store.put(KEY, b"x", "text/plain")

    store.delete(KEY)
    store.delete(KEY)

    assert not store.exists(KEY)
