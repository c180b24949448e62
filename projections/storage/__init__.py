"""Object storage (the R2 replacement): the ``ObjectStore`` port, its adapters, and the choice."""

from __future__ import annotations

from pydantic import SecretStr

from eventstore.settings import Settings
from projections.storage.local import LocalObjectStore
from projections.storage.port import ObjectStore, check_key
from projections.storage.s3 import S3ObjectStore

__all__ = ["LocalObjectStore", "ObjectStore", "S3ObjectStore", "check_key", "object_store"]


def object_store(settings: Settings, secret: str) -> ObjectStore:
    """The S3 store when a bucket is configured, else files under ``storage_dir``.

    ``secret`` signs the local store's upload URLs; S3 signs its own.
    """
    if settings.s3_bucket:
        return S3ObjectStore(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=_reveal(settings.s3_access_key_id),
            secret_access_key=_reveal(settings.s3_secret_access_key),
            path_style=settings.s3_path_style,
        )
    root = settings.storage_dir or settings.data_dir / "objects"
    return LocalObjectStore(root, settings.public_base_url, secret)


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None
