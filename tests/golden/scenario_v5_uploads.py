"""The scenario that wrote events_v5_uploads.json: every ``UploadSession`` event.

It was run once, on the working tree of issue 17's upload sessions, with ``PYTHONPATH=<checkout>
python scenario_v5_uploads.py <source> events_v5_uploads.json`` on the library's in-memory store.
Never run it again over the fixture: it is what this code stored, and later code must load it.
"""

import sys
from datetime import UTC, datetime
from uuid import UUID

from domain.uploadsession import MIB, UploadSession
from tests.golden.fixture import write

USER = UUID("00000000-0000-4000-8000-000000000001")
COMPLETED = UUID("00000000-0000-4000-8000-0000000000e1")
REJECTED = UUID("00000000-0000-4000-8000-0000000000e2")
ABORTED = UUID("00000000-0000-4000-8000-0000000000e3")
EXPIRED = UUID("00000000-0000-4000-8000-0000000000e4")
METADATA = {"actor": "golden", "correlation_id": "corr-5", "causation_id": "cause-5"}
DEADLINE = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def opened(session_id: UUID) -> UploadSession:
    return UploadSession.open(
        session_id,
        USER,
        size=6 * MIB,
        content_type="video/mp4",
        sha256="ab" * 32,
        part_size=5 * MIB,
        max_size=1024 * MIB,
        storage_upload_id=f"upload-{session_id.hex[-2:]}",
        expires_at=DEADLINE,
    )


def scenario() -> list:
    completed = opened(COMPLETED)
    completed.record_part(1, 5 * MIB, '"etag-1"')
    completed.record_part(2, MIB, '"etag-2"')
    completed.complete()
    completed.attach(UUID("00000000-0000-4000-8000-0000000000a1"), 0)
    rejected = opened(REJECTED)
    rejected.record_part(1, 5 * MIB, '"etag-1"')
    rejected.record_part(2, MIB, '"etag-2"')
    rejected.reject("the file's SHA-256 is not the declared one")
    aborted = opened(ABORTED)
    aborted.abort("aborted by its owner")
    expired = opened(EXPIRED)
    expired.expire(DEADLINE)
    return [completed, rejected, aborted, expired]


def main(source: str, path: str) -> None:
    write(scenario, METADATA, source, path)


if __name__ == "__main__":
    main(*sys.argv[1:])
