"""Object storage (the R2 replacement): the ``ObjectStore`` port and its adapters."""

from adapters.storage.local import LocalObjectStore
from adapters.storage.port import ObjectStore, check_key
from adapters.storage.s3 import S3ObjectStore

__all__ = ["LocalObjectStore", "ObjectStore", "S3ObjectStore", "check_key"]
