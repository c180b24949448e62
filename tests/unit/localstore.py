"""The local object store's test fixtures: a store under a temporary root on a clock the
test moves by hand, and the parameters the API's routes would read from a signed URL."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.storage import LocalObjectStore

BASE_URL = "http://api.example"
SECRET = "test-secret"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    return Clock()


@pytest.fixture(name="root")
def root_fixture(tmp_path: Path) -> Path:
    return tmp_path / "objects"


@pytest.fixture(name="store")
def store_fixture(root: Path, clock: Clock) -> LocalObjectStore:
    return LocalObjectStore(root, BASE_URL, SECRET, clock=clock)


def upload_params(url: str) -> tuple[str, int, str, str]:
    """The key, expiry, content type and signature an upload route would read from the URL."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query, strict_parsing=True).items()}
    key = parts.path.removeprefix("/storage/upload/")
    return key, int(query["expires"]), query["content_type"], query["signature"]


def download_params(url: str) -> tuple[str, int, str]:
    """The key, expiry and signature a download route would read from the URL."""
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query, strict_parsing=True).items()}
    key = parts.path.removeprefix("/storage/objects/")
    return key, int(query["expires"]), query["signature"]


def signed_png(store: LocalObjectStore) -> tuple[str, int, str, str]:
    """The upload parameters of a one-minute URL for ``a.png`` as ``image/png``."""
    return upload_params(store.presign_put("a.png", "image/png", 60))
