"""Multipart uploads of the local object store: S3's parts, as files on disk.

An upload is the directory ``root/.multipart/<upload id>`` holding ``upload.json`` (the key
and content type), each part as ``<number>`` and its ETag (the MD5 of its bytes, quoted as S3
quotes it) as ``<number>.etag``. Completing concatenates the parts named into the object and
removes the directory; aborting removes it. A part's upload URL is this API's
``PUT /storage/parts/<upload id>/<number>``, signed for the key, the upload and the number.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from urllib.parse import urlencode

from adapters.storage.port import check_content_type, check_expiry, check_key
from domain.errors import InvalidCommand, NotFound, ObjectStoreUnavailable
from domain.uploadsession import MAX_PARTS, StoredPart

PART_PATH = "/storage/parts/"
_MULTIPART_DIR = ".multipart"
_PART_CONTEXT = b"chronicle-part-v1"
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


class LocalMultipart:
    """The multipart half of ``LocalObjectStore`` (which provides the paths and signatures)."""

    _root: Path
    _base_url: str
    _clock: Callable[[], float]
    _path: Callable[[str], Path]
    _meta_path: Callable[[str], Path]
    _sign: Callable[..., str]
    _verify: Callable[..., None]

    def create_multipart_upload(self, key: str, content_type: str) -> str:
        """A new upload for the key: its id."""
        self._path(key)
        check_content_type(content_type)
        upload_id = secrets.token_hex(16)
        directory = self._upload_dir(upload_id)
        try:
            directory.mkdir(parents=True)
            manifest = json.dumps({"key": key, "content_type": content_type})
            (directory / "upload.json").write_text(manifest, "utf-8")
        except OSError as exc:
            raise ObjectStoreUnavailable(f"could not start an upload of {key!r}: {exc}") from exc
        return upload_id

    def presign_upload_part(
        self, key: str, upload_id: str, part_number: int, expires_seconds: int
    ) -> str:
        """A URL that accepts one HTTP PUT of part ``part_number`` of the upload."""
        check_key(key)
        self._upload_dir(upload_id)
        _check_part_number(part_number)
        expires = int(self._clock()) + check_expiry(expires_seconds)
        signature = self._sign(_PART_CONTEXT, key, expires, upload_id, str(part_number))
        query = urlencode({"key": key, "expires": expires, "signature": signature})
        return f"{self._base_url}{PART_PATH}{upload_id}/{part_number}?{query}"

    def verify_part_upload(
        self, key: str, upload_id: str, part_number: int, expires: int, signature: str
    ) -> None:
        """Raise ``Forbidden`` unless the part URL was signed here as given and has not expired."""
        check_key(key)
        self._upload_dir(upload_id)
        _check_part_number(part_number)
        self._verify(
            "part upload", key, expires, signature, _PART_CONTEXT, upload_id, str(part_number)
        )

    def write_part(
        self, key: str, upload_id: str, part_number: int, chunks: Iterable[bytes]
    ) -> StoredPart:
        """Store a part (replacing an earlier upload of it); ``NotFound`` if the upload ended."""
        directory = self._open_upload(key, upload_id)
        _check_part_number(part_number)
        md5, size = hashlib.md5(usedforsecurity=False), 0
        try:
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as file:
                    for chunk in chunks:
                        md5.update(chunk)
                        size += len(chunk)
                        file.write(chunk)
                etag = f'"{md5.hexdigest()}"'
                (directory / f"{part_number}.etag").write_text(etag, "ascii")
                os.replace(temporary, directory / str(part_number))
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except FileNotFoundError as exc:  # aborted or completed meanwhile
            raise NotFound(f"no upload {upload_id} of {key!r} is in progress") from exc
        except OSError as exc:
            raise ObjectStoreUnavailable(f"could not write a part of {key!r}: {exc}") from exc
        return StoredPart(part_number, size, etag)

    def list_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        """The parts stored so far, by number; ``NotFound`` if the upload ended."""
        directory = self._open_upload(key, upload_id)
        parts = []
        try:
            for path in directory.iterdir():
                if path.name.isdigit():
                    etag = (directory / f"{path.name}.etag").read_text("ascii")
                    parts.append(StoredPart(int(path.name), path.stat().st_size, etag))
        except FileNotFoundError as exc:
            raise NotFound(f"no upload {upload_id} of {key!r} is in progress") from exc
        return sorted(parts, key=lambda part: part.part_number)

    def complete_multipart_upload(self, key: str, upload_id: str, parts: list[StoredPart]) -> None:
        """Concatenate the parts named (ETags checked) into the object, then end the upload."""
        directory = self._open_upload(key, upload_id)
        stored = {part.part_number: part.etag for part in self.list_parts(key, upload_id)}
        for part in parts:
            if stored.get(part.part_number) != part.etag:
                raise InvalidCommand(f"part {part.part_number} of {key!r} is not the one named")
        content_type = json.loads((directory / "upload.json").read_text("utf-8"))["content_type"]
        path, meta = self._path(key), self._meta_path(key)
        try:
            meta.parent.mkdir(parents=True, exist_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            meta.write_text(content_type, "ascii")
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as file:
                    for part in parts:
                        with (directory / str(part.part_number)).open("rb") as source:
                            shutil.copyfileobj(source, file, 1024 * 1024)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise ObjectStoreUnavailable(f"could not assemble {key!r}: {exc}") from exc
        shutil.rmtree(directory, ignore_errors=True)

    def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        """Drop the upload and its parts (an upload that ended already is no error)."""
        check_key(key)
        shutil.rmtree(self._upload_dir(upload_id), ignore_errors=True)

    def read_chunks(self, key: str, chunk_size: int) -> Iterator[bytes]:
        """The object's bytes, ``chunk_size`` at a time; ``NotFound`` when there is none."""
        try:
            with self._path(key).open("rb") as file:
                while chunk := file.read(chunk_size):
                    yield chunk
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise NotFound(f"no object stored under {key!r}") from exc

    def delete(self, key: str) -> None:
        """Remove the object (and its content type); none stored is no error."""
        self._path(key).unlink(missing_ok=True)
        self._meta_path(key).unlink(missing_ok=True)

    def multipart_uploads(self) -> list[str]:
        """The ids of the uploads in progress (what an abandoned session would leak)."""
        root = self._root / _MULTIPART_DIR
        return sorted(p.name for p in root.iterdir()) if root.is_dir() else []

    def _upload_dir(self, upload_id: str) -> Path:
        if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
            raise NotFound(f"no upload {upload_id!r} is in progress")
        return self._root / _MULTIPART_DIR / upload_id

    def _open_upload(self, key: str, upload_id: str) -> Path:
        """The directory of an upload of ``key`` in progress, else ``NotFound``."""
        check_key(key)
        directory = self._upload_dir(upload_id)
        try:
            manifest = json.loads((directory / "upload.json").read_text("utf-8"))
        except (FileNotFoundError, NotADirectoryError, ValueError):
            manifest = None
        if not isinstance(manifest, dict) or manifest.get("key") != key:
            raise NotFound(f"no upload {upload_id} of {key!r} is in progress")
        return directory


def _check_part_number(part_number: int) -> None:
    if isinstance(part_number, bool) or not 1 <= part_number <= MAX_PARTS:
        raise InvalidCommand(f"a part number is 1 to {MAX_PARTS}, got {part_number!r}")
