"""``LocalObjectStore``: objects as files in a directory, uploaded through signed API URLs."""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlencode

from domain.errors import Forbidden, InvalidCommand, NotFound, StorageUnavailable
from projections.storage.port import check_content_type, check_expiry, check_key

UPLOAD_PATH = "/storage/upload/"
_SIGNING_CONTEXT = b"chronicle-upload-v1"


class LocalObjectStore:
    """The object store with nothing configured: files under ``root``, written atomically."""

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
        """A URL to this API's upload route, signed for the key, the content type and a deadline."""
        self._path(key)
        check_content_type(content_type)
        expires = int(self._clock()) + check_expiry(expires_seconds)
        query = urlencode(
            {
                "expires": expires,
                "content_type": content_type,
                "signature": self._sign(key, expires, content_type),
            }
        )
        return f"{self._base_url}{UPLOAD_PATH}{quote(key, safe='/')}?{query}"

    def verify_upload(self, key: str, expires: int, content_type: str, signature: str) -> None:
        """Raise ``Forbidden`` unless the URL was signed here for this request and has not expired.

        ``content_type`` is the upload request's Content-Type header, so an upload with another
        type than the signed one is refused like a tampered URL.
        """
        check_key(key)
        expected = self._sign(key, expires, content_type).encode()
        if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
            raise Forbidden(f"the upload URL for {key!r} is not valid for this request")
        if self._clock() > expires:
            raise Forbidden(f"the upload URL for {key!r} has expired")

    def exists(self, key: str) -> bool:
        """Whether a file is stored under the key."""
        return self._path(key).is_file()

    def missing(self, keys: list[str]) -> list[str]:
        """The keys with no file stored under them, in the order given."""
        paths = [(key, self._path(key)) for key in keys]
        return [key for key, path in paths if not path.is_file()]

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write the file through a temporary sibling so readers never see half an object."""
        path = self._path(key)
        check_content_type(content_type)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write_atomically(path, data)
        except (FileExistsError, NotADirectoryError, IsADirectoryError) as exc:
            raise InvalidCommand(f"object key {key!r} collides with another key's path") from exc
        except OSError as exc:
            raise StorageUnavailable(f"could not write object {key!r}: {exc}") from exc

    def get(self, key: str) -> bytes:
        """The file's bytes; ``NotFound`` when there is none."""
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise NotFound(f"no object stored under {key!r}") from exc
        except OSError as exc:
            raise StorageUnavailable(f"could not read object {key!r}: {exc}") from exc

    def _path(self, key: str) -> Path:
        """The resolved file for a valid key, refusing one that symlinks lead out of the root."""
        try:
            path = (self._root / check_key(key)).resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise InvalidCommand(f"invalid object key {key!r}: {exc}") from exc
        if not path.is_relative_to(self._root):
            raise InvalidCommand(f"invalid object key {key!r}: it leads outside the store")
        return path

    def _sign(self, key: str, expires: int, content_type: str) -> str:
        parts = [_SIGNING_CONTEXT, key.encode(), b"%d" % expires, content_type.encode()]
        message = b"\n".join(parts)
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

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
