"""Sign-in to the admin pages: an admin token, verified once, then a server-side session.

The cookie holds an opaque random session id, never the token: the server keeps the session
(``api.pages.sessionstore``, the id hashed) with its own expiry, ``admin_session_minutes``
but never past the token's, and sign-out revokes it, so a copied cookie stops working then.
The cookie is HttpOnly (no script reads it), Path=/admin, Secure when the API is served over
https, and SameSite=Strict. CSRF: the pages only read (GET); the only requests that change
anything are the sign-in and sign-out forms. SameSite=Strict means no request from another site
carries the session; the sign-out form also sends the session's CSRF token, checked here, in
case a browser ignores SameSite. A forged sign-in can at worst sign a browser in with an admin
token the forger already holds.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode, urlsplit

import jwt
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Principal
from api.deps import PrimaryDep, SettingsDep, TokensDep
from api.pages.render import page
from api.pages.sessionstore import find_session, open_session, revoke_session
from api.settings import Settings
from domain.errors import Unauthenticated

COOKIE = "chronicle_admin"
COOKIE_PATH = "/admin"
HOME = "/admin/audit"
MAX_TOKEN = 4096  # a token is a few hundred characters; more is not one
MAX_SESSION_ID = 100  # a session id is 43 characters; a longer cookie is no session

router = APIRouter(prefix="/admin", include_in_schema=False)


class SignInRequired(Exception):
    """A page was asked for without an admin session: sign in, then come back to ``next_url``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


async def redirect_to_sign_in(_: Request, exc: Exception) -> Response:
    """Answer SignInRequired with 303 to the sign-in page, which returns to the page asked for."""
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/admin/login?{urlencode({'next': exc.next_url})}", 303)


def admin_session(request: Request, primary: PrimaryDep) -> Principal:
    """The admin signed in by the session cookie, or SignInRequired.

    The session's CSRF token is left in ``request.state.admin_csrf`` for the sign-out form.
    """
    session_id = request.cookies.get(COOKIE, "")
    if 0 < len(session_id) <= MAX_SESSION_ID:
        found = find_session(primary, session_id)
        if found is not None:
            request.state.admin_csrf = found.csrf
            return Principal(found.subject, "admin")
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise SignInRequired(here)


AdminSession = Annotated[Principal, Depends(admin_session)]


@router.get("/login", response_class=HTMLResponse)
def sign_in_form(request: Request) -> Response:
    """The sign-in form: paste a token from `chronicle admin token`."""
    return page(request, "login.html", next=_local(request.query_params.get("next")), error=None)


@router.post("/login")
def sign_in(
    request: Request,
    tokens: TokensDep,
    settings: SettingsDep,
    primary: PrimaryDep,
    token: Annotated[str, Form()] = "",
    next_url: Annotated[str, Form(alias="next")] = HOME,
) -> Response:
    """Verify an admin token and open a session that ends no later than the token."""
    token, next_url = token.strip(), _local(next_url)

    def refuse(status: int, error: str) -> Response:
        return page(request, "login.html", status, next=next_url, error=error)

    if not token:
        return refuse(422, "Paste an admin token (`chronicle admin token` prints one).")
    if len(token) > MAX_TOKEN:
        return refuse(422, f"That is not a token: tokens are under {MAX_TOKEN} characters.")
    try:
        principal = tokens.verify(token)
    except Unauthenticated as exc:
        return refuse(401, f"Sign-in refused: {exc.message}.")
    if principal.role != "admin":
        return refuse(403, f"This is a {principal.role} token: the audit log needs an admin token.")
    # Verified just above: reading its expiry again needs no second signature check.
    token_expires = int(jwt.decode(token, options={"verify_signature": False})["exp"])
    lifetime = min(token_expires - int(time.time()), settings.admin_session_minutes * 60)
    lifetime = max(lifetime, 1)
    expires_at = datetime.now(UTC) + timedelta(seconds=lifetime)
    session_id, _ = open_session(primary, principal.subject, expires_at)
    response = RedirectResponse(next_url, 303)
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=lifetime,
        path=COOKIE_PATH,
        secure=_secure(settings),
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/logout")
def sign_out(
    request: Request,
    settings: SettingsDep,
    primary: PrimaryDep,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """End the session: revoked on the server, the cookie cleared, the sign-in form shown."""
    session_id = request.cookies.get(COOKIE, "")
    found = find_session(primary, session_id) if 0 < len(session_id) <= MAX_SESSION_ID else None
    if found is not None:
        if not secrets.compare_digest(csrf.encode(), found.csrf.encode()):
            request.state.admin_csrf = found.csrf
            principal = Principal(found.subject, "admin")
            message = "Sign-out refused: the form did not carry this session's CSRF token."
            return page(request, "error.html", 403, principal=principal, code=403, message=message)
        revoke_session(primary, session_id)
    response = RedirectResponse("/admin/login", 303)
    response.delete_cookie(
        COOKIE, path=COOKIE_PATH, secure=_secure(settings), httponly=True, samesite="strict"
    )
    return response


def _secure(settings: Settings) -> bool:
    return settings.public_base_url.startswith("https://")


def _local(url: str | None) -> str:
    """``url`` if it is a page of this site under /admin/, else the audit log (no open redirect)."""
    if not url or len(url) > 2000 or not url.isprintable() or "\\" in url:
        return HOME
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/admin/") or url.startswith("//"):
        return HOME
    return url
