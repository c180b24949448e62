"""UploadSession (the upload Durable Object): one large file sent in parts, then assembled.

``open → completed | rejected | aborted | expired``. A session is opened for one file of a
declared size, content type and SHA-256, split into parts of ``part_size`` bytes (the last
one shorter); each part storage holds is recorded as received (number, size, ETag), so
progress is history; completing checks every part is there and the assembled object's size
and SHA-256. The multipart upload in storage is the session's ``storage_upload_id``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.base import Aggregate
from domain.checks import CONTENT_TYPE, require_aware, require_count
from domain.errors import IllegalTransition, InvalidCommand

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB  # S3's floor for every part but the last
MAX_PART_SIZE = 5 * 1024 * MIB  # S3's ceiling for one part
MAX_PARTS = 10_000  # S3's ceiling of parts in one multipart upload
MAX_ETAG = 200
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ETAG = re.compile(r"[ -~]{1,200}")


@dataclass(frozen=True)
class StoredPart:
    """A part as storage holds it: its number (1-based), size in bytes and ETag."""

    part_number: int
    size: int
    etag: str


class UploadState:
    """Where a session stands; every state but ``open`` is final."""

    OPEN = "open"
    COMPLETED = "completed"
    REJECTED = "rejected"
    ABORTED = "aborted"
    EXPIRED = "expired"


def object_key(user_id: UUID, session_id: UUID) -> str:
    """Where a session's file is assembled: derived, so that events stay small."""
    return f"files/{user_id}/{session_id}"


def part_count(size: int, part_size: int) -> int:
    """How many parts of ``part_size`` bytes carry ``size`` bytes (the last one may be short)."""
    return -(-size // part_size)


def part_bytes(size: int, part_size: int, part_number: int) -> int:
    """The bytes part ``part_number`` (1-based) carries: ``part_size``, the last the rest."""
    count = part_count(size, part_size)
    return part_size if part_number < count else size - part_size * (count - 1)


def choose_part_size(size: int, requested: int | None, default: int) -> int:
    """The part size asked for, else ``default`` grown (by whole MiB) to fit ``MAX_PARTS`` parts."""
    if requested is not None:
        return requested
    if isinstance(size, int) and size > default * MAX_PARTS:
        smallest = -(-size // MAX_PARTS)
        return -(-smallest // MIB) * MIB
    return default


def check_file(
    size: int,
    content_type: str,
    sha256: str,
    part_size: int,
    max_size: int,
    max_part_size: int = MAX_PART_SIZE,
) -> None:
    """Refuse a declared file the session could not carry (``InvalidCommand`` naming why)."""
    require_count("size", size, minimum=1, maximum=max_size)
    require_count("part_size", part_size, minimum=MIN_PART_SIZE, maximum=max_part_size)
    if part_count(size, part_size) > MAX_PARTS:
        raise InvalidCommand(
            f"a file of {size:,} bytes needs more than {MAX_PARTS:,} parts of {part_size:,} "
            "bytes: use larger parts"
        )
    if not isinstance(content_type, str) or not CONTENT_TYPE.fullmatch(content_type):
        raise InvalidCommand(f"content_type must be 'type/subtype[; params]', got {content_type!r}")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise InvalidCommand("sha256 must be 64 lowercase hexadecimal digits")


class UploadSession(Aggregate):
    """One file uploaded in parts by its owner, until completed, aborted or expired."""

    class Created(Aggregate.Created):
        user_id: UUID
        size: int
        content_type: str
        sha256: str
        part_size: int
        storage_upload_id: str
        expires_at: datetime

    class PartReceived(Aggregate.Event):
        part_number: int
        size: int
        etag: str

        def apply(self, session: UploadSession) -> None:
            session.parts[str(self.part_number)] = [self.size, self.etag]

    class Attached(Aggregate.Event):
        job_id: UUID
        item_index: int

        def apply(self, session: UploadSession) -> None:
            session.attachments.append([str(self.job_id), self.item_index])

    class AttachedToMessage(Aggregate.Event):
        room_id: UUID
        message_id: UUID

        def apply(self, session: UploadSession) -> None:
            session.messages.append(str(self.message_id))

    class Completed(Aggregate.Event):
        def apply(self, session: UploadSession) -> None:
            session.state = UploadState.COMPLETED
            session.ended_at = self.timestamp

    class Rejected(Aggregate.Event):
        reason: str

        def apply(self, session: UploadSession) -> None:
            session.state = UploadState.REJECTED
            session.reason = self.reason
            session.ended_at = self.timestamp

    class Aborted(Aggregate.Event):
        reason: str

        def apply(self, session: UploadSession) -> None:
            session.state = UploadState.ABORTED
            session.reason = self.reason
            session.ended_at = self.timestamp

    class Expired(Aggregate.Event):
        def apply(self, session: UploadSession) -> None:
            session.state = UploadState.EXPIRED
            session.reason = "the session expired before it was completed"
            session.ended_at = self.timestamp

    def __init__(
        self,
        user_id: UUID,
        size: int,
        content_type: str,
        sha256: str,
        part_size: int,
        storage_upload_id: str,
        expires_at: datetime,
    ) -> None:
        self.user_id = user_id
        self.size = size
        self.content_type = content_type
        self.sha256 = sha256
        self.part_size = part_size
        self.storage_upload_id = storage_upload_id
        self.expires_at = expires_at
        self.state = UploadState.OPEN
        self.reason: str | None = None
        self.ended_at: datetime | None = None
        # part number (str, a JSON key) -> [size, etag], as storage last reported it
        self.parts: dict[str, list[Any]] = {}
        self.attachments: list[list[Any]] = []  # [job id, item index] the file was copied to
        self.messages: list[str] = []  # the chat messages it is attached to

    @classmethod
    def open(
        cls,
        session_id: UUID,
        user_id: UUID,
        *,
        size: int,
        content_type: str,
        sha256: str,
        part_size: int,
        max_size: int,
        storage_upload_id: str,
        expires_at: datetime,
    ) -> UploadSession:
        """A new session for one file; ``storage_upload_id`` names its multipart upload."""
        check_file(size, content_type, sha256, part_size, max_size)
        require_aware("expires_at", expires_at)
        if not isinstance(storage_upload_id, str) or not 1 <= len(storage_upload_id) <= 1024:
            raise InvalidCommand("storage_upload_id must be 1 to 1024 characters")
        return cls._create(
            cls.Created,
            id=session_id,
            user_id=user_id,
            size=size,
            content_type=content_type,
            sha256=sha256,
            part_size=part_size,
            storage_upload_id=storage_upload_id,
            expires_at=expires_at,
        )

    @property
    def object_key(self) -> str:
        return object_key(self.user_id, self.id)

    @property
    def part_count(self) -> int:
        return part_count(self.size, self.part_size)

    def expected_size(self, part_number: int) -> int:
        """The size part ``part_number`` (1-based) must have: ``part_size``, the last the rest."""
        return part_bytes(self.size, self.part_size, part_number)

    @property
    def received_bytes(self) -> int:
        return sum(int(size) for size, _ in self.parts.values())

    def missing_parts(self) -> list[int]:
        """The part numbers not received whole (absent, or of another size than expected)."""
        return [
            n
            for n in range(1, self.part_count + 1)
            if self.parts.get(str(n), [None])[0] != self.expected_size(n)
        ]

    def record_part(self, part_number: int, size: int, etag: str) -> bool:
        """Record a part storage holds, unless recorded as it is; whether it was recorded."""
        self._require_open("record a part")
        require_count("part_number", part_number, minimum=1, maximum=self.part_count)
        require_count("size", size, minimum=0, maximum=MAX_PART_SIZE)
        if not isinstance(etag, str) or not _ETAG.fullmatch(etag):
            raise InvalidCommand(f"a part's ETag must be 1 to {MAX_ETAG} printable characters")
        if self.parts.get(str(part_number)) == [size, etag]:
            return False
        self.trigger_event(self.PartReceived, part_number=part_number, size=size, etag=etag)
        return True

    def complete(self) -> None:
        """Mark the file assembled and checked; every part must have been received whole."""
        self._require_open("complete")
        missing = self.missing_parts()
        if missing:
            raise IllegalTransition(f"parts {_shown(missing)} are missing or of the wrong size")
        self.trigger_event(self.Completed)

    def require_completed(self) -> None:
        """IllegalTransition unless the file is complete (what attaching it needs)."""
        if self.state != UploadState.COMPLETED:
            raise IllegalTransition(
                f"cannot attach: upload session {self.id} is {self.state!r}; attaching needs "
                "'completed'",
                current_state=self.state,
            )

    def attach_to_message(self, room_id: UUID, message_id: UUID) -> bool:
        """Record the completed file attached to a chat message; whether it was not yet."""
        self.require_completed()
        if str(message_id) in self.messages:
            return False
        self.trigger_event(self.AttachedToMessage, room_id=room_id, message_id=message_id)
        return True

    def attach(self, job_id: UUID, item_index: int) -> bool:
        """Record the completed file copied to a job's item; whether it was not recorded yet."""
        self.require_completed()
        if [str(job_id), item_index] in self.attachments:
            return False
        self.trigger_event(self.Attached, job_id=job_id, item_index=item_index)
        return True

    def reject(self, reason: str) -> None:
        """End the session: the assembled object was not the declared file."""
        self._require_open("reject")
        self.trigger_event(self.Rejected, reason=reason[:500])

    def abort(self, reason: str) -> None:
        """End the session at its owner's request (its parts were dropped)."""
        self._require_open("abort")
        self.trigger_event(self.Aborted, reason=reason[:500])

    def expire(self, now: datetime) -> bool:
        """End the session if it is open past its deadline; whether it did."""
        if self.state != UploadState.OPEN or now < self.expires_at:
            return False
        self.trigger_event(self.Expired)
        return True

    def _require_open(self, action: str) -> None:
        if self.state != UploadState.OPEN:
            raise IllegalTransition(
                f"cannot {action}: upload session {self.id} is {self.state!r}",
                current_state=self.state,
            )


def _shown(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:20])
    return shown + (", …" if len(numbers) > 20 else "")
