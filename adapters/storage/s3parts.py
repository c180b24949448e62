"""Multipart uploads of the S3 object store: S3's own, parts sent on presigned URLs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from botocore.exceptions import ClientError

from adapters.storage.port import check_content_type, check_expiry, check_key
from domain.errors import NotFound
from domain.uploadsession import StoredPart

_NO_UPLOAD = ("NoSuchUpload", "NoSuchKey")


class S3Multipart:
    """The multipart half of ``S3ObjectStore`` (which provides the client and the bucket)."""

    _bucket: str
    _client: Any
    _translated: Callable[[str, str], AbstractContextManager[None]]

    def create_multipart_upload(self, key: str, content_type: str) -> str:
        """A new multipart upload of the key, typed ``content_type``: its upload id."""
        check_key(key)
        check_content_type(content_type)
        with self._translated("start an upload of", key):
            response = self._client.create_multipart_upload(
                Bucket=self._bucket, Key=key, ContentType=content_type
            )
        return str(response["UploadId"])

    def presign_upload_part(
        self, key: str, upload_id: str, part_number: int, expires_seconds: int
    ) -> str:
        """A SigV4 URL for a PUT of one part, straight to the bucket."""
        params = {
            "Bucket": self._bucket,
            "Key": check_key(key),
            "UploadId": upload_id,
            "PartNumber": part_number,
        }
        with self._translated("sign a part upload for", key):
            url: str = self._client.generate_presigned_url(
                "upload_part", Params=params, ExpiresIn=check_expiry(expires_seconds)
            )
        return url

    def list_parts(self, key: str, upload_id: str) -> list[StoredPart]:
        """The parts S3 holds, by number (every page); ``NotFound`` if the upload ended."""
        check_key(key)
        parts: list[StoredPart] = []
        marker = 0
        with self._translated("list the parts of", key):
            while True:
                try:
                    page = self._client.list_parts(
                        Bucket=self._bucket, Key=key, UploadId=upload_id, PartNumberMarker=marker
                    )
                except ClientError as exc:
                    if _code(exc) in _NO_UPLOAD:
                        raise NotFound(f"no upload {upload_id} of {key!r} is in progress") from exc
                    raise
                parts += [
                    StoredPart(int(p["PartNumber"]), int(p["Size"]), str(p["ETag"]))
                    for p in page.get("Parts", [])
                ]
                if not page.get("IsTruncated"):
                    break
                marker = int(page["NextPartNumberMarker"])
        return sorted(parts, key=lambda part: part.part_number)

    def complete_multipart_upload(self, key: str, upload_id: str, parts: list[StoredPart]) -> None:
        """Assemble the parts named, by number and ETag, into the object; ``NotFound`` if the
        upload ended."""
        check_key(key)
        named = [{"PartNumber": p.part_number, "ETag": p.etag} for p in parts]
        with self._translated("assemble", key):
            try:
                self._client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": named},
                )
            except ClientError as exc:
                if _code(exc) in _NO_UPLOAD:
                    raise NotFound(f"no upload {upload_id} of {key!r} is in progress") from exc
                raise

    def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        """Drop the upload and its parts; one that ended already is no error."""
        check_key(key)
        with self._translated("abort the upload of", key):
            try:
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=key, UploadId=upload_id
                )
            except ClientError as exc:
                if _code(exc) not in _NO_UPLOAD:
                    raise

    def read_chunks(self, key: str, chunk_size: int) -> Iterator[bytes]:
        """The object's bytes, streamed ``chunk_size`` at a time; ``NotFound``."""
        check_key(key)
        with self._translated("read", key):
            try:
                response = self._client.get_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if _code(exc) == "NoSuchKey":
                    raise NotFound(f"no object stored under {key!r}") from exc
                raise
            body = response["Body"]  # its ``with`` hands over the raw stream, not this
            try:
                yield from body.iter_chunks(chunk_size)
            finally:
                body.close()

    def delete(self, key: str) -> None:
        """Remove the object (S3 answers a missing one as deleted)."""
        check_key(key)
        with self._translated("delete", key):
            self._client.delete_object(Bucket=self._bucket, Key=key)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
