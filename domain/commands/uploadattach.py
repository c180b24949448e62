"""Making a completed upload an item of one of its owner's jobs awaiting its uploads.

Storage copies the file to the item's upload key in ``prepare`` (outside the writer), then the
session records it attached: the job itself is unchanged, and its ``ConfirmUpload`` finds the
item as if it had been PUT to the item's upload URL. Attaching the same item again copies the
file again and records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.base import Aggregates
from domain.checks import require_count
from domain.commands.uploadsession import Multipart, UploadSessionState, own_session
from domain.errors import IllegalTransition, InvalidCommand, NotFound
from domain.job import Job
from domain.jobstatus import JobStatus, upload_key
from domain.presets import Presets
from domain.uploadsession import UploadState

MAX_COPY_SIZE = 5 * 1024**3  # S3 copies at most 5 GiB in one request


@dataclass(frozen=True)
class AttachUploadToJob:
    """Make the user's completed file the input of one item of the user's job awaiting its
    uploads: storage copies it to the item's upload key, then the session records it."""

    session_id: UUID
    user_id: UUID
    job_id: UUID
    item_index: int
    storage: Multipart
    presets: Presets

    def prepare(self, saved: Aggregates) -> AttachUploadToJob:
        session = own_session(saved, self.session_id, self.user_id)
        job = saved.find(Job, self.job_id)
        if job is None or job.user_id != self.user_id:
            raise NotFound(f"job {self.job_id} not found")
        if session.state != UploadState.COMPLETED:
            session.attach(self.job_id, self.item_index)  # refuses, naming the state
        if job.status != JobStatus.CREATED:
            raise IllegalTransition(f"job {job.id} is {str(job.status)!r}; uploads need 'created'")
        require_count("item_index", self.item_index, minimum=0, maximum=job.item_count - 1)
        wanted = self.presets.get(job.preset).content_type
        if session.content_type != wanted:
            raise InvalidCommand(
                f"the file is {session.content_type!r}; "
                f"items of preset {job.preset!r} are {wanted!r}"
            )
        if session.size > MAX_COPY_SIZE:
            raise InvalidCommand(f"a file over {MAX_COPY_SIZE:,} bytes cannot be a job's item")
        self.storage.copy(session.object_key, upload_key(self.user_id, job.id, self.item_index))
        return self

    def __call__(self, aggregates: Aggregates) -> UploadSessionState:
        session = own_session(aggregates, self.session_id, self.user_id)
        session.attach(self.job_id, self.item_index)
        return UploadSessionState.of(session)
