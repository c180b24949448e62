"""The ``ObjectStore`` port (the R2 replacement) and the key rule every adapter shares."""

from __future__ import annotations

import re
from typing import Protocol

from domain.errors import InvalidCommand

MAX_KEY_LENGTH = 1024
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+( *;[ -~]*)?")


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
    if not isinstance(content_type, str) or not _CONTENT_TYPE.fullmatch(content_type):
        raise InvalidCommand(f"invalid content type {content_type!r}")
    return content_type


def check_expiry(expires_seconds: int) -> int:
    """Return the lifetime when it is between one second and seven days (the S3 maximum)."""
    if not 1 <= expires_seconds <= 7 * 24 * 3600:
        raise InvalidCommand(f"invalid URL lifetime {expires_seconds}s: use 1 to 604800")
    return expires_seconds
