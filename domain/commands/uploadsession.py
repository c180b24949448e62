"""Use cases on UploadSession: open, record the parts storage holds, complete, abort.

Storage is asked in ``prepare`` (outside the writer): a multipart upload is created before a
session is opened, its parts are listed before they are recorded, the file is assembled and
its SHA-256 computed before a session is completed or rejected, and the parts are dropped
before a session is aborted (dropping them twice is harmless). Another user's session is
reported as not found, so that existence does not leak. What ends a session from outside its
owner (its deadline) is ``domain.commands.uploadendings``; making a completed file a job's item is
``domain.commands.uploadattach``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.base import Aggregates
from domain.errors import IllegalTransition, NotFound, UploadsMissing
from domain.uploadsession import (
    MAX_PART_SIZE,
    StoredPart,
    UploadSession,
    UploadState,
    check_file,
    object_key,
    part_count,
)

HASH_CHUNK = 1024 * 1024


class Multipart(Protocol):
    """What a use case asks of object storage to carry one file in parts."""

    def create_multipart_upload(self, key: str, content_type: str) -> str: ...

    def list_parts(self, key: str, upload_id: str) -> list[StoredPart]: ...

    def complete_multipart_upload(
        self, key: str, upload_id: str, parts: list[StoredPart]
    ) -> None: ...

    def abort_multipart_upload(self, key: str, upload_id: str) -> None: ...

    def read_chunks(self, key: str, chunk_size: int) -> Iterator[bytes]: ...

    def delete(self, key: str) -> None: ...

    def copy(self, source_key: str, key: str) -> None: ...


@dataclass(frozen=True)
class UploadSessionState:
    """A session as a command left it: what the caller is answered from."""

    session_id: UUID
    state: str
    reason: str | None
    object_key: str
    storage_upload_id: str
    size: int
    content_type: str
    sha256: str
    part_size: int
    part_count: int
    received_bytes: int
    parts: list[StoredPart]
    missing: list[int]
    expires_at: datetime

    @classmethod
    def of(cls, session: UploadSession) -> UploadSessionState:
        parts = [
            StoredPart(int(n), int(size), str(etag))
            for n, (size, etag) in sorted(session.parts.items(), key=lambda p: int(p[0]))
        ]
        return cls(
            session.id,
            session.state,
            session.reason,
            session.object_key,
            session.storage_upload_id,
            session.size,
            session.content_type,
            session.sha256,
            session.part_size,
            session.part_count,
            session.received_bytes,
            parts,
            session.missing_parts() if session.state == UploadState.OPEN else [],
            session.expires_at,
        )


@dataclass(frozen=True)
class OpenUploadSession:
    """Open a session for one file of a declared size, content type and SHA-256."""

    session_id: UUID
    user_id: UUID
    size: int
    content_type: str
    sha256: str
    part_size: int
    max_size: int
    expires_at: datetime
    storage: Multipart
    max_part_size: int = MAX_PART_SIZE
    storage_upload_id: str | None = None

    def prepare(self, saved: Aggregates) -> OpenUploadSession:
        """Check the declared file, then create its multipart upload in storage."""
        check_file(
            self.size,
            self.content_type,
            self.sha256,
            self.part_size,
            self.max_size,
            self.max_part_size,
        )
        key = object_key(self.user_id, self.session_id)
        upload_id = self.storage.create_multipart_upload(key, self.content_type)
        return dataclasses.replace(self, storage_upload_id=upload_id)

    def __call__(self, aggregates: Aggregates) -> UploadSessionState:
        if self.storage_upload_id is None:
            raise IllegalTransition("a session is opened once its multipart upload exists")
        session = UploadSession.open(
            self.session_id,
            self.user_id,
            size=self.size,
            content_type=self.content_type,
            sha256=self.sha256,
            part_size=self.part_size,
            max_size=self.max_size,
            storage_upload_id=self.storage_upload_id,
            expires_at=self.expires_at,
        )
        aggregates.add(session)
        return UploadSessionState.of(session)


@dataclass(frozen=True)
class RecordUploadParts:
    """Record the parts storage holds that the session has not recorded as they are."""

    session_id: UUID
    user_id: UUID
    storage: Multipart
    parts: tuple[StoredPart, ...] = ()

    def prepare(self, saved: Aggregates) -> RecordUploadParts:
        """List the parts of an open session's multipart upload (an ended one has none)."""
        session = own_session(saved, self.session_id, self.user_id)
        if session.state != UploadState.OPEN:
            return self
        listed = self.storage.list_parts(session.object_key, session.storage_upload_id)
        return dataclasses.replace(self, parts=tuple(listed))

    def __call__(self, aggregates: Aggregates) -> UploadSessionState:
        session = own_session(aggregates, self.session_id, self.user_id)
        if session.state == UploadState.OPEN:
            _record(session, self.parts)
        return UploadSessionState.of(session)


@dataclass(frozen=True)
class CompleteUploadSession:
    """Assemble the parts and check the file's size and SHA-256: completed, or rejected."""

    session_id: UUID
    user_id: UUID
    storage: Multipart

    def prepare(self, saved: Aggregates) -> _EndChecked:
        """Refuse while a part is missing or of the wrong size (the session stays open); else
        assemble the object, hash it, and drop it when it is not the declared file."""
        session = own_session(saved, self.session_id, self.user_id)
        if session.state != UploadState.OPEN:
            return _EndChecked(self.session_id, self.user_id, (), None)  # answers or refuses
        key = session.object_key
        try:
            parts = self.storage.list_parts(key, session.storage_upload_id)
        except NotFound:
            return self._ended_meanwhile(saved)
        missing = _missing(session, parts)
        if missing:
            shown = ", ".join(str(n) for n in missing[:20]) + (", …" if len(missing) > 20 else "")
            raise UploadsMissing(
                f"{len(missing)} of {session.part_count} parts are missing or of the wrong "
                f"size: {shown}",
                missing=missing[:1000],
            )
        wanted = sorted(
            (p for p in parts if p.part_number <= session.part_count), key=lambda p: p.part_number
        )
        try:
            self.storage.complete_multipart_upload(key, session.storage_upload_id, wanted)
        except NotFound:
            return self._ended_meanwhile(saved)
        size, digest = _digest(self.storage, key)
        reason = None
        if size != session.size:
            reason = f"the file has {size:,} bytes, not the declared {session.size:,}"
        elif digest != session.sha256:
            reason = f"the file's SHA-256 is {digest}, not the declared {session.sha256}"
        if reason is not None:
            self.storage.delete(key)  # not the declared file: nothing is kept
        return _EndChecked(self.session_id, self.user_id, tuple(wanted), reason)

    def _ended_meanwhile(self, saved: Aggregates) -> _EndChecked:
        """The upload is gone from storage: a concurrent completion, abort or expiry ended the
        session; answer as it now stands (or, still open, say storage lost its parts)."""
        session = own_session(saved, self.session_id, self.user_id)
        if session.state == UploadState.OPEN:
            raise NotFound(f"storage holds no upload of session {self.session_id}: abort it")
        return _EndChecked(self.session_id, self.user_id, (), None)


@dataclass(frozen=True)
class _EndChecked:
    """Record the parts assembled, then complete the session, or reject it with ``reason``."""

    session_id: UUID
    user_id: UUID
    parts: tuple[StoredPart, ...]
    reason: str | None

    def __call__(self, aggregates: Aggregates) -> UploadSessionState:
        session = own_session(aggregates, self.session_id, self.user_id)
        if session.state == UploadState.COMPLETED:
            return UploadSessionState.of(session)  # completed before: its first answer
        if session.state != UploadState.OPEN:
            raise IllegalTransition(
                f"cannot complete: upload session {session.id} is {session.state!r}"
                + (f" ({session.reason})" if session.reason else ""),
                current_state=session.state,
            )
        _record(session, self.parts)
        if self.reason is None:
            session.complete()
        else:
            session.reject(self.reason)
        return UploadSessionState.of(session)


@dataclass(frozen=True)
class AbortUploadSession:
    """End the owner's open session and drop its parts (aborting twice answers the same)."""

    session_id: UUID
    user_id: UUID
    storage: Multipart
    reason: str = "aborted by its owner"

    def prepare(self, saved: Aggregates) -> AbortUploadSession:
        session = own_session(saved, self.session_id, self.user_id)
        if session.state == UploadState.OPEN:
            self.storage.abort_multipart_upload(session.object_key, session.storage_upload_id)
        return self

    def __call__(self, aggregates: Aggregates) -> UploadSessionState:
        session = own_session(aggregates, self.session_id, self.user_id)
        if session.state != UploadState.ABORTED:
            session.abort(self.reason)
        return UploadSessionState.of(session)


def own_session(aggregates: Aggregates, session_id: UUID, user_id: UUID) -> UploadSession:
    """The user's session, else NotFound (another user's too)."""
    session = aggregates.find(UploadSession, session_id)
    if session is None or session.user_id != user_id:
        raise NotFound(f"upload session {session_id} not found")
    return session


def _record(session: UploadSession, parts: tuple[StoredPart, ...]) -> None:
    for part in parts:
        if 1 <= part.part_number <= session.part_count:  # storage may hold strays; not ours
            session.record_part(part.part_number, part.size, part.etag)


def _missing(session: UploadSession, parts: list[StoredPart]) -> list[int]:
    sizes = {p.part_number: p.size for p in parts}
    count = part_count(session.size, session.part_size)
    return [n for n in range(1, count + 1) if sizes.get(n) != session.expected_size(n)]


def _digest(storage: Multipart, key: str) -> tuple[int, str]:
    """The stored object's size and SHA-256, read in chunks (never whole into memory)."""
    sha, size = hashlib.sha256(), 0
    for chunk in storage.read_chunks(key, HASH_CHUNK):
        sha.update(chunk)
        size += len(chunk)
    return size, sha.hexdigest()
