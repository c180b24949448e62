"""Fixtures of the HTTP tests served by uvicorn (``live_server``)."""

import httpx
import pytest

from tests.e2e.auditsession import admin_token, sign_in
from tests.e2e.flows import bearer


@pytest.fixture
def http(live_server):
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        yield client


@pytest.fixture
def admin(live_server):
    return bearer(live_server.services.tokens.issue("ann", "admin"))


@pytest.fixture
def worker(live_server):
    return bearer(live_server.services.tokens.issue("gpu-1", "worker"))


@pytest.fixture
def signed_in(http, live_server):
    """``http`` holding an admin session cookie."""
    assert sign_in(http, admin_token(live_server)).status_code == 303
    return http
