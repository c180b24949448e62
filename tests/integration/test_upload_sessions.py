"""Upload sessions on real PostgreSQL, with the local store and with moto's S3 server over HTTP:
a resumed upload, a wrong file refused, an abandoned session expired with its parts dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from adapters.storage import LocalObjectStore, S3ObjectStore
from api.bootstrap import deadline_scheduler
from domain.commands import uploadsession as uploads
from domain.errors import NotFound, UploadsMissing
from domain.uploadsession import UploadState
from tests.conftest import on_s3
from tests.e2e.flows import wait_projected
from tests.unit.uploads import PART, file_of, open_session, parts_of, sha256_of

DATA = file_of(2 * PART + 4321)  # three parts, the last short


@pytest.fixture(params=["local", "s3"])
def settings(request, settings, moto_endpoint):
    # The scheduler of `running` stays idle: the tests fire deadlines themselves.
    settings.deadline_poll_seconds = 3600
    if request.param == "s3":
        return on_s3(settings, moto_endpoint)
    return settings


@pytest.fixture
def store(running) -> Any:
    return running.object_store


@pytest.fixture
def owner() -> UUID:
    return uuid4()


def run(running, command) -> Any:
    return running.executor.execute(command).result


def send(store, state, numbers: list[int], data: bytes = DATA) -> None:
    """Send parts as a client would: to the presigned URL on S3, through the adapter locally."""
    parts = parts_of(data)
    key, upload_id = state.object_key, state.storage_upload_id
    for n in numbers:
        if isinstance(store, S3ObjectStore):
            url = store.presign_upload_part(key, upload_id, n, 60)
            assert httpx.put(url, content=parts[n - 1]).status_code == 200
        else:
            store.write_part(key, upload_id, n, [parts[n - 1]])


def uploads_in_progress(store, state) -> list[str]:
    if isinstance(store, LocalObjectStore):
        return store.multipart_uploads()
    listed = store._client.list_multipart_uploads(Bucket=store._bucket, Prefix=state.object_key)
    return [u["UploadId"] for u in listed.get("Uploads", [])]


def test_a_dropped_client_sends_only_the_missing_parts_and_completes(running, store, owner):
    state = run(running, open_session(store, owner, DATA))
    send(store, state, [1, 3])  # the connection drops before part 2

    asked = run(running, uploads.RecordUploadParts(state.session_id, owner, store))
    send(store, state, asked.missing)
    done = run(running, uploads.CompleteUploadSession(state.session_id, owner, store))

    assert asked.missing == [2]
    assert asked.received_bytes == PART + 4321
    assert done.state == UploadState.COMPLETED
    assert sha256_of(b"".join(store.read_chunks(done.object_key, PART))) == sha256_of(DATA)
    assert uploads_in_progress(store, state) == []


def test_a_file_of_another_sha256_is_rejected_and_dropped(running, store, owner):
    state = run(running, open_session(store, owner, DATA, sha256=sha256_of(b"other")))
    send(store, state, [1, 2, 3])

    ended = run(running, uploads.CompleteUploadSession(state.session_id, owner, store))

    assert ended.state == UploadState.REJECTED
    assert not store.exists(state.object_key)


def test_a_file_of_another_size_is_refused_and_the_session_stays_open(running, store, owner):
    state = run(running, open_session(store, owner, DATA))
    send(store, state, [1, 2, 3], data=DATA[:-1])  # the last part one byte short

    with pytest.raises(UploadsMissing, match="wrong size: 3"):
        run(running, uploads.CompleteUploadSession(state.session_id, owner, store))
    send(store, state, [3])
    done = run(running, uploads.CompleteUploadSession(state.session_id, owner, store))

    assert done.state == UploadState.COMPLETED


def test_an_abandoned_session_expires_and_its_parts_are_dropped(running, store, owner):
    state = run(running, open_session(store, owner, DATA, expires_in=timedelta(minutes=10)))
    send(store, state, [1])
    wait_projected(running, ["upload_sessions"])
    scheduler = deadline_scheduler(running)

    early = scheduler.fire_due(now=datetime.now(UTC))
    fired = scheduler.fire_due(now=state.expires_at + timedelta(seconds=1))
    wait_projected(running, ["upload_sessions"])

    assert (early, fired) == (0, 1)
    assert uploads_in_progress(store, state) == []
    with pytest.raises(NotFound):
        store.list_parts(state.object_key, state.storage_upload_id)
    with running.reads.connection() as conn:
        row = conn.execute(
            "SELECT state FROM upload_sessions WHERE session_id = %s", (state.session_id,)
        ).fetchone()
    assert row["state"] == UploadState.EXPIRED
    assert scheduler.fire_due(now=state.expires_at + timedelta(seconds=2)) == 0
