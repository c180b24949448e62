"""``LocalObjectStore``: objects as files in a directory, moved through signed API URLs.

An object ``key`` is the file ``root/key``; its content type is the file ``root/.meta/key``
(no key segment starts with a dot, so that tree never collides with an object, nor does
``root/.multipart``, where uploads in parts wait).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

from adapters.storage.localparts import LocalMultipart
from adapters.storage.port import check_content_type, check_expiry, check_key
from domain.errors import Forbidden, InvalidCommand, NotFound, ObjectStoreUnavailable

UPLOAD_PATH = "/storage/upload/"
DOWNLOAD_PATH = "/storage/objects/"
DEFAULT_CONTENT_TYPE = "application/octet-stream"
_META_DIR = ".meta"
# A purpose in every signed message, so an upload signature never passes as a download one.
_UPLOAD_CONTEXT = b"chronicle-upload-v1"
_DOWNLOAD_CONTEXT = b"chronicle-download-v1"


class LocalObjectStore(LocalMultipart):
    """The object store with nothing configured: files under ``root``, written atomically
    (large files in parts: ``adapters.storage.localparts``)."""

    def __init__(
        self,
        root: Path,
        public_base_url: str,
        secret: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret:
            raise ValueError("LocalObjectStore needs a non-empty signing secret")
        self._root = Path(root).resolve()
        self._base_url = public_base_url.rstrip("/")
        self._secret = secret.encode()
        self._clock = clock

    def presign_put(self, key: str, content_type: str, expires_seconds: int) -> str:
        """A URL to this API's upload route, signed for the key, the content type and a deadline.

        The key's spelling is checked here; where it leads (symlinks) is checked by the upload
        itself, so signing touches no file."""
        check_key(key)
        check_content_type(content_type)
        expires = int(self._clock()) + check_expiry(expires_seconds)
        query = urlencode(
            {
                "expires": expires,
                "content_type": content_type,
                "signature": self._sign(_UPLOAD_CONTEXT, key, expires, content_type),
            }
        )
        return f"{self._base_url}{UPLOAD_PATH}{quote(key, safe='/')}?{query}"

    def verify_upload(self, key: str, expires: int, content_type: str, signature: str) -> None:
        """Raise ``Forbidden`` unless the URL was signed here for this request and has not expired.

        ``content_type`` is the upload request's Content-Type header, so an upload with another
        type than the signed one is refused like a tampered URL.
        """
        check_key(key)
        self._verify("upload", key, expires, signature, _UPLOAD_CONTEXT, content_type)

    def presign_get(self, key: str, expires_seconds: int) -> str:
        """A URL to this API's download route, signed for the key and a deadline (the key's
        spelling checked; the download checks where it leads)."""
        check_key(key)
        expires = int(self._clock()) + check_expiry(expires_seconds)
        signature = self._sign(_DOWNLOAD_CONTEXT, key, expires)
        query = urlencode({"expires": expires, "signature": signature})
        return f"{self._base_url}{DOWNLOAD_PATH}{quote(key, safe='/')}?{query}"

    def verify_download(self, key: str, expires: int, signature: str) -> None:
        """Raise ``Forbidden`` unless ``presign_get`` signed this key and deadline, not expired."""
        check_key(key)
        self._verify("download", key, expires, signature, _DOWNLOAD_CONTEXT)

    def exists(self, key: str) -> bool:
        """Whether a file is stored under the key."""
        return self._path(key).is_file()

    def missing(self, keys: list[str]) -> list[str]:
        """The keys with no file stored under them, in the order given."""
        paths = [(key, self._path(key)) for key in keys]
        return [key for key, path in paths if not path.is_file()]

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write the file through a temporary sibling so readers never see half an object.

        The content type is written first, so a failed write can pair an object with the type
        of its replacement, but never leaves an object of no known type behind a new one.
        """
        path, meta = self._path(key), self._meta_path(key)
        check_content_type(content_type)
        try:
            meta.parent.mkdir(parents=True, exist_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write_atomically(meta, content_type.encode())
            self._write_atomically(path, data)
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
            raise InvalidCommand(f"object key {key!r} collides with another key's path") from exc
        except OSError as exc:
            raise ObjectStoreUnavailable(f"could not write object {key!r}: {exc}") from exc

    def get(self, key: str) -> bytes:
        """The file's bytes; ``NotFound`` when there is none."""
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise NotFound(f"no object stored under {key!r}") from exc
        except OSError as exc:
            raise ObjectStoreUnavailable(f"could not read object {key!r}: {exc}") from exc

    def copy(self, source_key: str, key: str) -> None:
        """Copy the file and its content type under ``key`` (written atomically, as ``put``)."""
        source, path, meta = self._path(source_key), self._path(key), self._meta_path(key)
        content_type = self.content_type(source_key)  # NotFound when there is no such file
        try:
            meta.parent.mkdir(parents=True, exist_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write_atomically(meta, content_type.encode())
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            os.close(fd)
            try:
                shutil.copyfile(source, temporary)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
            raise InvalidCommand(f"object key {key!r} collides with another key's path") from exc
        except OSError as exc:
            raise ObjectStoreUnavailable(f"could not copy {source_key!r}: {exc}") from exc

    def content_type(self, key: str) -> str:
        """The type the object was stored with (octet-stream if none was kept); ``NotFound``."""
        if not self.exists(key):
            raise NotFound(f"no object stored under {key!r}")
        try:
            stored = self._meta_path(key).read_text("ascii").strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UnicodeDecodeError):
            return DEFAULT_CONTENT_TYPE
        except OSError as exc:
            raise ObjectStoreUnavailable(f"could not read object {key!r}: {exc}") from exc
        try:
            return check_content_type(stored)
        except InvalidCommand:
            return DEFAULT_CONTENT_TYPE

    def _path(self, key: str) -> Path:
        """The resolved file for a valid key, refusing one that symlinks lead out of the root."""
        try:
            path = (self._root / check_key(key)).resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise InvalidCommand(f"invalid object key {key!r}: {exc}") from exc
        if not path.is_relative_to(self._root):
            raise InvalidCommand(f"invalid object key {key!r}: it leads outside the store")
        return path

    def _meta_path(self, key: str) -> Path:
        """The content-type file of a valid key, under ``root/.meta`` and refusing symlinks out."""
        meta_root = self._root / _META_DIR
        try:
            path = (meta_root / check_key(key)).resolve()
        except (OSError, RuntimeError) as exc:
            raise InvalidCommand(f"invalid object key {key!r}: {exc}") from exc
        if not path.is_relative_to(meta_root):
            raise InvalidCommand(f"invalid object key {key!r}: it leads outside the store")
        return path

    def _verify(
        self, purpose: str, key: str, expires: int, signature: str, context: bytes, *extra: str
    ) -> None:
        expected = self._sign(context, key, expires, *extra).encode()
        if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
            raise Forbidden(f"the {purpose} URL for {key!r} is not valid for this request")
        if self._clock() > expires:
            raise Forbidden(f"the {purpose} URL for {key!r} has expired")

    def _sign(self, context: bytes, key: str, expires: int, *extra: str) -> str:
        # Keys and content types hold no newline (both are checked), so the fields cannot shift.
        parts = [context, key.encode(), b"%d" % expires, *(value.encode() for value in extra)]
        return hmac.new(self._secret, b"\n".join(parts), hashlib.sha256).hexdigest()

    @staticmethod
    def _write_atomically(path: Path, data: bytes) -> None:
        # The temporary name starts with a dot, which no valid key segment does.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
