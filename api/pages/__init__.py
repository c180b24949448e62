"""The admin pages: server-rendered HTML (Jinja2) of the audit log, behind a session cookie.

The pages are left out of the OpenAPI document (``include_in_schema=False``): tools read the
same data from the JSON twins in ``api.routes.audit``.
"""

from __future__ import annotations

from fastapi import FastAPI

from api.pages import audit, session


def install(app: FastAPI) -> None:
    """Serve the pages, and send a visitor without an admin session to the sign-in form."""
    app.add_exception_handler(session.SignInRequired, session.redirect_to_sign_in)
    app.include_router(session.router)
    app.include_router(audit.router)
