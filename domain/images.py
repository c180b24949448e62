"""Test images: their type told from their bytes, and the content-hash key they are stored under.

The type comes from the file's magic bytes, never from its name or ``Content-Type``: a PNG
sent as ``photo.jpg`` is a PNG, and a page or a script sent as ``image/png`` is no image.
Keys are ``images/<sha256 of the bytes>.<extension>``: the same bytes always get the same
key, so re-uploading them stores nothing new, and an object under a key never changes (it
may be cached forever).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

PREFIX = "images/"


@dataclass(frozen=True)
class ImageType:
    """A supported image type: its content type and the extension of its keys."""

    content_type: str
    extension: str


PNG = ImageType("image/png", "png")
JPEG = ImageType("image/jpeg", "jpg")
GIF = ImageType("image/gif", "gif")
WEBP = ImageType("image/webp", "webp")
TYPES: tuple[ImageType, ...] = (PNG, JPEG, WEBP, GIF)
_BY_EXTENSION = {t.extension: t for t in TYPES}
_KEY = re.compile(r"images/[0-9a-f]{64}\.(?P<extension>png|jpg|webp|gif)")


def sniff(data: bytes) -> ImageType | None:
    """The type of the image in ``data`` from its magic bytes, or None if it is none we take."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def image_key(data: bytes, extension: str) -> str:
    """The object key of the image ``data``: ``images/<sha256 hex>.<extension>``."""
    if extension not in _BY_EXTENSION:
        raise ValueError(f"{extension!r} is not the extension of a supported image type")
    return f"{PREFIX}{hashlib.sha256(data).hexdigest()}.{extension}"


def content_type_of(key: str) -> str | None:
    """The content type of the image stored under ``key``, or None if it is no image key."""
    match = _KEY.fullmatch(key)
    return _BY_EXTENSION[match["extension"]].content_type if match else None


def accepted() -> str:
    """The accepted types, for messages: ``image/png, image/jpeg, image/webp, image/gif``."""
    return ", ".join(t.content_type for t in TYPES)
