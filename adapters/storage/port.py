"""The ``ObjectStore`` port (the R2 replacement) and the key rule every adapter shares."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Protocol

from domain.checks import CONTENT_TYPE
from domain.errors import InvalidCommand
from domain.uploadsession import StoredPart

MAX_KEY_LENGTH = 1024
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


class ObjectStore(Protocol):
    """Objects by key: presigned uploads and downloads, existence checks, plain reads and writes."""

    def presign_put(self, key: str, content_type: str, expires_seconds: int) -> str:
        """A URL that accepts one HTTP PUT of the object with exactly this Content-Type."""
        ...

    def presign_get(self, key: str, expires_seconds: int) -> str:
        """A URL that answers an HTTP GET with the object's bytes until it expires."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under the key."""
        ...

    def missing(self, keys: list[str]) -> list[str]:
        """The keys with no object stored under them, in the order given."""
        ...

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store the object under the key, replacing any previous one."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; ``NotFound`` when there is none."""
        ...

    def read_chunks(self, key: str, chunk_size: int) -> Iterator[bytes]:
        """The object's bytes a chunk at a time (never whole in memory); ``NotFound``."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; none stored under the key is no error."""
        ...

    def copy(self, source_key: str, key: str) -> None:
        """Store a copy of the object (its content type too) under ``key``; ``NotFound``."""
        ...

    # A large file in parts (S3 multipart): create, upload parts on presigned URLs, list
    # them, complete with the parts' ETags, or abort (which drops the parts).

    def create_multipart_upload(self, key: str, content_type: str) -> str:
        """Start an upload in parts of the object: its upload id."""
        ...

    def presign_upload_part(
        self, key: str, upload_id: str, part_number: int, expires_seconds: int
    ) -> str:
        """A URL that accepts one HTTP PUT of part ``part_number`` (1-based) of the upload."""
        ...

    def list_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        """The parts stored so far, by number; ``NotFound`` when the upload is not in progress."""
        ...

    def complete_multipart_upload(self, key: str, upload_id: str, parts: list[StoredPart]) -> None:
        """Assemble the parts named (number and ETag), in order, into the object."""
        ...

    def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        """Drop the upload and its parts; an upload no longer in progress is no error."""
        ...


def check_key(key: str) -> str:
    """Return the key if it is a safe relative path of plain segments, else ``InvalidCommand``.

    A segment is ASCII letters, digits, ``.``, ``_`` and ``-`` and starts with a letter or digit,
    so ``..``, absolute paths, backslashes, NUL, percent-encodings and hidden files never pass,
    and a key means the same object on every adapter.
    """
    if not isinstance(key, str) or not key:
        raise InvalidCommand(f"invalid object key {key!r}: it is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidCommand(f"invalid object key {key[:64]!r}...: longer than {MAX_KEY_LENGTH}")
    if not all(_SEGMENT.fullmatch(segment) for segment in key.split("/")):
        raise InvalidCommand(
            f"invalid object key {key!r}: use '/'-separated segments of letters, digits, "
            "'.', '_' and '-', each starting with a letter or digit"
        )
    return key


def check_content_type(content_type: str) -> str:
    """Return the content type when it is a plain ``type/subtype[; params]``, else raise."""
    if not isinstance(content_type, str) or not CONTENT_TYPE.fullmatch(content_type):
        raise InvalidCommand(f"invalid content type {content_type!r}")
    return content_type


def check_expiry(expires_seconds: int) -> int:
    """Return the lifetime when it is between one second and seven days (the S3 maximum)."""
    if not 1 <= expires_seconds <= 7 * 24 * 3600:
        raise InvalidCommand(f"invalid URL lifetime {expires_seconds}s: use 1 to 604800")
    return expires_seconds
