"""What ends an upload session from outside its owner: its deadline.

A deadline fires at least once: firing it again, or after the session ended, changes nothing
(the parts of an ended session are gone already, and dropping them twice is harmless).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.base import Aggregates
from domain.commands.uploadsession import Multipart, UploadSessionState
from domain.uploadsession import UploadSession, UploadState


@dataclass(frozen=True)
class UploadExpiry:
    """A session after its deadline, and whether the deadline changed it."""

    session: UploadSessionState
    expired: bool


@dataclass(frozen=True)
class ExpireUploadSession:
    """End a session still open past its deadline, its parts dropped so no storage leaks."""

    session_id: UUID
    now: datetime
    storage: Multipart

    def prepare(self, saved: Aggregates) -> ExpireUploadSession:
        session = saved.get(UploadSession, self.session_id)
        if session.state == UploadState.OPEN and self.now >= session.expires_at:
            self.storage.abort_multipart_upload(session.object_key, session.storage_upload_id)
        return self

    def __call__(self, aggregates: Aggregates) -> UploadExpiry:
        session = aggregates.get(UploadSession, self.session_id)
        expired = session.expire(self.now)
        return UploadExpiry(UploadSessionState.of(session), expired)
