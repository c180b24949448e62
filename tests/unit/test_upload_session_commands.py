"""Upload session use cases through the real executor, on the in-memory store and the local
object store (files under a temporary directory: no socket)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application

from adapters.storage import LocalObjectStore
from domain.commands import job as jobs
from domain.commands import uploadattach as attach
from domain.commands import uploadendings as endings
from domain.commands import uploadsession as uploads
from domain.commands.usercredits import OpenAccount
from domain.errors import IllegalTransition, InvalidCommand, NotFound, UploadsMissing
from domain.jobstatus import upload_key
from domain.uploadsession import UploadSession, UploadState
from tests.fakes import presets
from tests.unit.uploads import PART, file_of, open_session, parts_of, sha256_of

DATA = file_of(2 * PART + 1234)  # three parts, the last short


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects", "http://api.example", "secret")


@pytest.fixture
def owner() -> UUID:
    return uuid4()


def send(store: LocalObjectStore, state: Any, data: bytes, numbers: list[int]) -> None:
    parts = parts_of(data)
    for n in numbers:
        store.write_part(state.object_key, state.storage_upload_id, n, [parts[n - 1]])


def test_open_creates_the_multipart_upload_and_lists_every_part_missing(
    run: Any, store: LocalObjectStore, owner: UUID
) -> None:
    state = run(open_session(store, owner, DATA))

    assert (state.state, state.part_count, state.missing) == ("open", 3, [1, 2, 3])
    assert store.multipart_uploads() == [state.storage_upload_id]


def test_open_refuses_bad_input_before_storage_is_asked(
    run: Any, store: LocalObjectStore, owner: UUID
) -> None:
    with pytest.raises(Exception, match="sha256"):
        run(open_session(store, owner, DATA, sha256="not-hex"))

    assert store.multipart_uploads() == []


def test_recording_parts_shows_progress_as_events(
    run: Any, memory_app: Application, store: LocalObjectStore, owner: UUID
) -> None:
    state = run(open_session(store, owner, DATA))
    send(store, state, DATA, [1, 3])

    recorded = run(uploads.RecordUploadParts(state.session_id, owner, store))
    again = run(uploads.RecordUploadParts(state.session_id, owner, store))

    assert recorded.missing == [2]
    assert recorded.received_bytes == PART + 1234
    assert again == recorded
    session = memory_app.repository.get(state.session_id)
    assert session.version == 3  # opened + two parts, the repeat recorded nothing


def test_a_resumed_upload_completes_with_the_missing_part_only(
    run: Any, store: LocalObjectStore, owner: UUID
) -> None:
    state = run(open_session(store, owner, DATA))
    send(store, state, DATA, [1, 3])
    missing = run(uploads.RecordUploadParts(state.session_id, owner, store)).missing
    send(store, state, DATA, missing)

    done = run(uploads.CompleteUploadSession(state.session_id, owner, store))

    assert (done.state, done.missing) == (UploadState.COMPLETED, [])
    assert store.get(done.object_key) == DATA
    assert store.multipart_uploads() == []


def test_complete_refuses_while_a_part_is_missing_and_stays_open(
    run: Any, store: LocalObjectStore, owner: UUID
) -> None:
    state = run(open_session(store, owner, DATA))
    send(store, state, DATA, [1, 2])

    with pytest.raises(UploadsMissing, match="1 of 3 parts .*: 3"):
        run(uploads.CompleteUploadSession(state.session_id, owner, store))

    assert run(uploads.RecordUploadParts(state.session_id, owner, store)).state == "open"


def test_a_part_of_the_wrong_size_is_refused_as_missing(
    run: Any, store: LocalObjectStore, owner: UUID
) -> None:
    state = run(open_session(store, owner, DATA))
    send(store, state, DATA, [1, 2])
    store.write_part(state.object_key, state.storage_upload_id, 3, [b"short"])

    with pytest.raises(UploadsMissing, match="wrong size: 3"):
        run(uploads.CompleteUploadSession(state.session_id, owner, store))


def test_a_file_whose_sha256_differs_is_rejected_and_not_kept(
    run: Any, memory_app: Application, store: LocalObjectStore, owner: UUID
) -> None:
    state = run(open_session(store, owner, DATA, sha256=sha256_of(b"another file")))
    send(store, state, DATA, [1, 2, 3])

    ended = run(uploads.CompleteUploadSession(state.session_id, owner, store))

    assert ended.state == UploadState.REJECTED
    assert "SHA-256" in (ended.reason or "")
    assert not store.exists(state.object_key)
    with pytest.raises(IllegalTransition, match="rejected"):
        run(uploads.CompleteUploadSession(state.session_id, owner, store))


def test_completing_twice_answers_the_first_completion(
    run: Any, store: LocalObjectStore, owner: UUID
) -> None:
    state = run(open_session(store, owner, DATA))
    send(store, state, DATA, [1, 2, 3])
    first = run(uploads.CompleteUploadSession(state.session_id, owner, store))

    again = run(uploads.CompleteUploadSession(state.session_id, owner, store))

    assert again == first


def test_abort_drops_the_parts_and_answers_the_same_twice(
    run: Any, store: LocalObjectStore, owner: UUID
) -> None:
    state = run(open_session(store, owner, DATA))
    send(store, state, DATA, [1])

    aborted = run(uploads.AbortUploadSession(state.session_id, owner, store))
    again = run(uploads.AbortUploadSession(state.session_id, owner, store))

    assert aborted.state == again.state == UploadState.ABORTED
    assert store.multipart_uploads() == []
    with pytest.raises(NotFound):
        send(store, state, DATA, [2])


def test_another_users_session_is_not_found(run: Any, store: LocalObjectStore, owner: UUID) -> None:
    state = run(open_session(store, owner, DATA))

    for command in (
        uploads.RecordUploadParts(state.session_id, uuid4(), store),
        uploads.CompleteUploadSession(state.session_id, uuid4(), store),
        uploads.AbortUploadSession(state.session_id, uuid4(), store),
    ):
        with pytest.raises(NotFound):
            run(command)
    assert store.multipart_uploads() == [state.storage_upload_id]


def test_expiry_drops_the_parts_only_past_the_deadline(
    run: Any, memory_app: Application, store: LocalObjectStore, owner: UUID
) -> None:
    state = run(open_session(store, owner, DATA, expires_in=timedelta(minutes=5)))
    send(store, state, DATA, [1, 2])
    now = datetime.now(UTC)

    early = run(endings.ExpireUploadSession(state.session_id, now, store))
    late = run(endings.ExpireUploadSession(state.session_id, now + timedelta(minutes=6), store))

    assert (early.expired, late.expired) == (False, True)
    assert late.session.state == UploadState.EXPIRED
    assert store.multipart_uploads() == []
    session: UploadSession = memory_app.repository.get(state.session_id)
    assert session.state == UploadState.EXPIRED


def completed(run: Any, store: LocalObjectStore, owner: UUID, content_type: str) -> Any:
    command = open_session(store, owner, DATA)
    state = run(dataclasses.replace(command, content_type=content_type))
    send(store, state, DATA, [1, 2, 3])
    return run(uploads.CompleteUploadSession(state.session_id, owner, store))


def test_a_completed_file_becomes_a_jobs_item_and_the_job_confirms_its_upload(
    run: Any, store: LocalObjectStore, user: UUID
) -> None:
    state = completed(run, store, user, "image/png")
    job_id = run(jobs.CreateJob(uuid4(), user, "upscale", 1, presets(1))).job_id

    run(attach.AttachUploadToJob(state.session_id, user, job_id, 0, store, presets(1)))
    confirmed = run(jobs.ConfirmUpload(job_id, user, store))

    assert confirmed.status == "uploaded"
    assert store.get(upload_key(user, job_id, 0)) == DATA
    assert store.content_type(upload_key(user, job_id, 0)) == "image/png"


@pytest.mark.parametrize(
    ("content_type", "item_index", "error"),
    [("video/mp4", 0, InvalidCommand), ("image/png", 1, InvalidCommand)],
)
def test_a_file_of_another_type_or_a_missing_item_is_not_attached(
    run: Any, store: LocalObjectStore, user: UUID, content_type: str, item_index: int, error: Any
) -> None:
    state = completed(run, store, user, content_type)
    job_id = run(jobs.CreateJob(uuid4(), user, "upscale", 1, presets(1))).job_id

    with pytest.raises(error):
        run(attach.AttachUploadToJob(state.session_id, user, job_id, item_index, store, presets(1)))

    assert not store.exists(upload_key(user, job_id, 0))


def test_a_file_is_not_attached_to_another_users_job_nor_an_open_session(
    run: Any, store: LocalObjectStore, user: UUID
) -> None:
    state = completed(run, store, user, "image/png")
    stranger = uuid4()
    run(OpenAccount(stranger, "free", 100))
    foreign_job = run(jobs.CreateJob(uuid4(), stranger, "upscale", 1, presets(1))).job_id
    own_job = run(jobs.CreateJob(uuid4(), user, "upscale", 1, presets(1))).job_id
    still_open = run(open_session(store, user, DATA))

    with pytest.raises(NotFound):
        run(attach.AttachUploadToJob(state.session_id, user, foreign_job, 0, store, presets(1)))
    with pytest.raises(IllegalTransition, match="'open'"):
        run(attach.AttachUploadToJob(still_open.session_id, user, own_job, 0, store, presets(1)))


def test_completing_after_an_abort_is_refused_naming_the_state(
    run: Any, store: LocalObjectStore, owner: UUID
) -> None:
    state = run(open_session(store, owner, DATA))
    send(store, state, DATA, [1, 2, 3])
    run(uploads.AbortUploadSession(state.session_id, owner, store))

    with pytest.raises(IllegalTransition, match="'aborted'"):
        run(uploads.CompleteUploadSession(state.session_id, owner, store))


def test_an_open_session_whose_upload_storage_lost_is_not_found_on_completion(
    run: Any, store: LocalObjectStore, owner: UUID
) -> None:
    state = run(open_session(store, owner, DATA))
    store.abort_multipart_upload(state.object_key, state.storage_upload_id)

    with pytest.raises(NotFound, match="abort it"):
        run(uploads.CompleteUploadSession(state.session_id, owner, store))
