"""Upload sessions' test helpers: a file of known bytes, and its parts."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from domain.commands.uploadsession import OpenUploadSession
from domain.uploadsession import MIB

PART = 5 * MIB  # the smallest part S3 allows (all but the last)
MAX_SIZE = 100 * MIB


def file_of(size: int, seed: int = 7) -> bytes:
    """``size`` bytes that differ from part to part (a part sent twice is caught)."""
    block = hashlib.sha256(b"%d" % seed).digest() * (MIB // 32)
    return (block * (size // len(block) + 1))[:size]


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parts_of(data: bytes, part_size: int = PART) -> list[bytes]:
    return [data[i : i + part_size] for i in range(0, len(data), part_size)]


def open_session(
    storage: object,
    user_id: UUID,
    data: bytes,
    *,
    sha256: str | None = None,
    expires_in: timedelta = timedelta(hours=1),
) -> OpenUploadSession:
    return OpenUploadSession(
        uuid4(),
        user_id,
        size=len(data),
        content_type="application/octet-stream",
        sha256=sha256 or sha256_of(data),
        part_size=PART,
        max_size=MAX_SIZE,
        expires_at=datetime.now(UTC) + expires_in,
        storage=storage,  # type: ignore[arg-type]
    )
