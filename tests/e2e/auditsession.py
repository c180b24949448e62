"""Signing in to the audit pages in the HTTP tests (the session fixture is in conftest.py)."""

import re

PAGES = [
    "/admin/audit?actor=admin%3Aann",
    "/admin/audit/aggregates/00000000-0000-0000-0000-000000000001",
    "/admin/audit/correlations/req-1",
]


def sign_in(http, token, **form):
    return http.post("/admin/login", data={"token": token, **form})


def admin_token(live_server, ttl=None):
    return live_server.services.tokens.issue("ann", "admin", ttl=ttl)


def csrf_of(page):
    """The CSRF token of the sign-out form on ``page`` (a response)."""
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
