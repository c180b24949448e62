"""Signing in to the audit pages in the HTTP tests (the session fixture is in conftest.py)."""

PAGES = [
    "/admin/audit?actor=admin%3Aann",
    "/admin/audit/aggregates/00000000-0000-0000-0000-000000000001",
    "/admin/audit/correlations/req-1",
]


def sign_in(http, token, **form):
    return http.post("/admin/login", data={"token": token, **form})


def admin_token(live_server, ttl=None):
    return live_server.services.tokens.issue("ann", "admin", ttl=ttl)
