"""A user's upload sessions: one large file sent in parts, resumable, checked, then kept.

Open a session (its part upload URLs), send the parts (to S3 directly, or to this API's local
store), ask which are missing after a drop and send only those, complete (size and SHA-256
checked), or abort. An open session expires after ``upload_session_seconds``, its parts dropped.
A completed file can become an item of one of the user's jobs awaiting its uploads.
"""

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter

from adapters.storage import LocalObjectStore, ObjectStore
from api.deps import (
    Command,
    ObjectStoreDep,
    PresetsDep,
    SettingsDep,
    UserPrincipal,
    in_thread,
    user_id_of,
)
from api.schemas.uploads import PartUpload, UploadAttach, UploadSessionOpen, UploadSessionView
from api.settings import Settings
from domain.commands.uploadattach import AttachUploadToJob
from domain.commands.uploadsession import (
    AbortUploadSession,
    CompleteUploadSession,
    OpenUploadSession,
    RecordUploadParts,
)
from domain.errors import ChecksumMismatch
from domain.uploadsession import MAX_PART_SIZE, UploadState, choose_part_size, part_bytes
from eventstore.records import Outcome

router = APIRouter(prefix="/uploads", tags=["uploads"])


@router.post("", response_model=UploadSessionView, status_code=201)
@in_thread
def open_upload(
    body: UploadSessionOpen,
    principal: UserPrincipal,
    command: Command,
    store: ObjectStoreDep,
    settings: SettingsDep,
) -> UploadSessionView:
    """Open a session for one file of the declared size, type and SHA-256; answer with an
    upload URL per part."""
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.upload_session_seconds)
    open_session = OpenUploadSession(
        uuid.uuid4(),
        user_id_of(principal),
        size=body.size,
        content_type=body.content_type,
        sha256=body.sha256,
        part_size=choose_part_size(body.size, body.part_size, settings.upload_part_bytes),
        max_size=settings.upload_session_max_bytes,
        expires_at=expires_at,
        storage=store,
        max_part_size=_largest_part(store, settings),
    )
    return _view(command.run(open_session), store, settings)


@router.get("/{session_id}", response_model=UploadSessionView)
@in_thread
def get_upload(
    session_id: uuid.UUID,
    principal: UserPrincipal,
    command: Command,
    store: ObjectStoreDep,
    settings: SettingsDep,
) -> UploadSessionView:
    """The session's state, the parts received and their bytes, which parts are missing (with
    fresh upload URLs for them): what a client that lost its connection sends again."""
    # Recording what storage holds is no request of the caller's: never under its key.
    record = RecordUploadParts(session_id, user_id_of(principal), store)
    unkeyed = dataclasses.replace(command, idempotency=None)
    return _view(unkeyed.run(record), store, settings)


@router.post("/{session_id}/complete", response_model=UploadSessionView)
@in_thread
def complete_upload(
    session_id: uuid.UUID,
    principal: UserPrincipal,
    command: Command,
    store: ObjectStoreDep,
    settings: SettingsDep,
) -> UploadSessionView:
    """Assemble the parts and check the file's size and SHA-256: `409 uploads_missing` names
    the parts to send; a file that is not the declared one is `422 checksum_mismatch` and ends
    the session. Completed, the file is at `object_key`."""
    outcome = command.run(CompleteUploadSession(session_id, user_id_of(principal), store))
    if outcome.record["state"] == UploadState.REJECTED:
        raise ChecksumMismatch(outcome.record["reason"], state=UploadState.REJECTED)
    return _view(outcome, store, settings)


@router.post("/{session_id}/attach", response_model=UploadSessionView)
@in_thread
def attach_upload(
    session_id: uuid.UUID,
    body: UploadAttach,
    principal: UserPrincipal,
    command: Command,
    store: ObjectStoreDep,
    presets: PresetsDep,
    settings: SettingsDep,
) -> UploadSessionView:
    """Make the completed file item `item_index` of one of the caller's jobs still awaiting its
    uploads (`created`; the preset's content type): `POST /jobs/{id}/confirm-upload` then
    finds it as if it had been PUT to the item's upload URL."""
    attach = AttachUploadToJob(
        session_id, user_id_of(principal), body.job_id, body.item_index, store, presets
    )
    return _view(command.run(attach), store, settings)


@router.delete("/{session_id}", response_model=UploadSessionView)
@in_thread
def abort_upload(
    session_id: uuid.UUID,
    principal: UserPrincipal,
    command: Command,
    store: ObjectStoreDep,
    settings: SettingsDep,
) -> UploadSessionView:
    """Abort an open session: its parts are dropped. Aborting again answers the same."""
    outcome = command.run(AbortUploadSession(session_id, user_id_of(principal), store))
    return _view(outcome, store, settings)


def _view(outcome: Outcome[Any], store: ObjectStore, settings: Settings) -> UploadSessionView:
    record = outcome.record
    key, expires = record["object_key"], settings.upload_url_seconds
    uploads: list[PartUpload] = []
    download_url = None
    if record["state"] == UploadState.OPEN:
        uploads = [
            PartUpload(
                part_number=n,
                size=part_bytes(record["size"], record["part_size"], n),
                url=store.presign_upload_part(key, record["storage_upload_id"], n, expires),
            )
            for n in record["missing"]
        ]
    elif record["state"] == UploadState.COMPLETED:
        download_url = store.presign_get(key, expires)
    is_open = record["state"] == UploadState.OPEN
    return UploadSessionView.of(
        record, outcome.position, uploads, expires if is_open else None, download_url
    )


def _largest_part(store: ObjectStore, settings: Settings) -> int:
    """The local store takes a part through this API, within its upload limit; S3 takes 5 GiB."""
    if isinstance(store, LocalObjectStore):
        return min(settings.upload_max_bytes, MAX_PART_SIZE)
    return MAX_PART_SIZE
