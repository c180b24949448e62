"""``S3ObjectStore``: the object store on any S3 API (R2, S3, MinIO) through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from adapters.storage.port import check_content_type, check_expiry, check_key
from adapters.storage.s3parts import S3Multipart
from domain.errors import NotFound, ObjectStoreUnavailable

_LOOKUP_THREADS = 8


class S3ObjectStore(S3Multipart):
    """Objects in one bucket; clients reach the store directly with presigned PUT and GET URLs
    (large files in parts: ``adapters.storage.s3parts``)."""

    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        *,
        path_style: bool = False,
        max_attempts: int = 3,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self._bucket = bucket
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if path_style else "auto"},
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # Checksums only where S3 requires them: not every S3-compatible store accepts more.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # A session of our own, so nothing depends on boto3's module-level default session.
        self._client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    def presign_put(self, key: str, content_type: str, expires_seconds: int) -> str:
        """A SigV4 URL whose signature covers the Content-Type, so another type is refused."""
        params = {
            "Bucket": self._bucket,
            "Key": check_key(key),
            "ContentType": check_content_type(content_type),
        }
        with self._translated("sign an upload for", key):
            url: str = self._client.generate_presigned_url(
                "put_object", Params=params, ExpiresIn=check_expiry(expires_seconds)
            )
        return url

    def presign_get(self, key: str, expires_seconds: int) -> str:
        """A SigV4 URL for a GET of the object, straight from the bucket."""
        params = {"Bucket": self._bucket, "Key": check_key(key)}
        with self._translated("sign a download of", key):
            url: str = self._client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=check_expiry(expires_seconds)
            )
        return url

    def exists(self, key: str) -> bool:
        """Whether the object exists (a HEAD; a missing bucket also answers 404, so ``False``)."""
        check_key(key)
        with self._translated("look up", key):
            try:
                self._client.head_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if _status(exc) == 404:
                    return False
                raise
        return True

    def missing(self, keys: list[str]) -> list[str]:
        """The keys with no object, in the order given (HEAD requests run a few at a time)."""
        for key in keys:
            check_key(key)
        if len(keys) < 2:
            return [key for key in keys if not self.exists(key)]
        with ThreadPoolExecutor(min(_LOOKUP_THREADS, len(keys))) as pool:
            found = list(pool.map(self.exists, keys))
        return [key for key, present in zip(keys, found, strict=True) if not present]

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store the object under the key, replacing any previous one."""
        check_key(key)
        check_content_type(content_type)
        with self._translated("store", key):
            self._client.put_object(
                Bucket=self._bucket, Key=key, Body=data, ContentType=content_type
            )

    def get(self, key: str) -> bytes:
        """The object's bytes; ``NotFound`` when there is none."""
        check_key(key)
        with self._translated("read", key):
            try:
                response = self._client.get_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if _code(exc) == "NoSuchKey":
                    raise NotFound(f"no object stored under {key!r}") from exc
                raise
            with response["Body"] as body:
                data: bytes = body.read()
        return data

    def copy(self, source_key: str, key: str) -> None:
        """Copy the object (its content type too) inside the bucket (S3 copies up to 5 GiB)."""
        source = {"Bucket": self._bucket, "Key": check_key(source_key)}
        check_key(key)
        with self._translated("copy", source_key):
            try:
                self._client.copy_object(
                    Bucket=self._bucket, Key=key, CopySource=source, MetadataDirective="COPY"
                )
            except ClientError as exc:
                if _code(exc) == "NoSuchKey":
                    raise NotFound(f"no object stored under {source_key!r}") from exc
                raise

    def check(self) -> None:
        """Raise ``ObjectStoreUnavailable`` unless the bucket exists and these credentials work."""
        with self._translated("reach", "(bucket)"):
            try:
                self._client.head_bucket(Bucket=self._bucket)
            except ClientError as exc:
                if _status(exc) == 404:
                    raise ObjectStoreUnavailable(
                        f"object storage bucket {self._bucket!r} does not exist"
                    ) from exc
                raise

    @contextmanager
    def _translated(self, action: str, key: str) -> Iterator[None]:
        """Turn boto3's exceptions into ``ObjectStoreUnavailable``, naming bucket and key."""
        try:
            yield
        except ClientError as exc:
            reason = _reason(exc)
            raise ObjectStoreUnavailable(
                f"object storage could not {action} {key!r} in bucket {self._bucket!r}: {reason}"
            ) from exc
        except BotoCoreError as exc:
            raise ObjectStoreUnavailable(
                f"object storage could not {action} {key!r} in bucket {self._bucket!r}: {exc}"
            ) from exc


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int | None:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else None


def _reason(exc: ClientError) -> str:
    if _code(exc) == "NoSuchBucket":
        return "the bucket does not exist"
    message = exc.response.get("Error", {}).get("Message") or "no message"
    return f"{_code(exc) or _status(exc)} {message}"
