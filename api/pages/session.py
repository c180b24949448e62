"""Sign-in to the admin pages: an admin token, verified once, then kept in a session cookie.

The cookie holds the verified token itself (it is verified again on every page, so a token
that expires or a secret that rotates ends the session), lives no longer than the token,
is HttpOnly (no script reads it), Path=/admin, Secure when the API is served over https, and
SameSite=Strict. CSRF: the pages only read (GET); the only requests that change anything are
the sign-in and sign-out forms. SameSite=Strict means no request from another site ever
carries the session, so a forged request can at worst sign a browser out, or sign it in with
an admin token the forger already holds.
"""

from __future__ import annotations

import time
from typing import Annotated
from urllib.parse import urlencode, urlsplit

import jwt
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import Principal
from api.deps import SettingsDep, TokensDep
from api.pages.render import page
from api.settings import Settings
from domain.errors import Unauthenticated

COOKIE = "chronicle_admin"
COOKIE_PATH = "/admin"
HOME = "/admin/audit"
MAX_TOKEN = 4096  # a token is a few hundred characters; more is not one

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


async def admin_session(request: Request, tokens: TokensDep) -> Principal:
    """The admin signed in by the session cookie, or SignInRequired."""
    token = request.cookies.get(COOKIE)
    if token:
        try:
            principal = tokens.verify(token)
        except Unauthenticated:
            principal = None
        if principal is not None and principal.role == "admin":
            return principal
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
    token: Annotated[str, Form()] = "",
    next_url: Annotated[str, Form(alias="next")] = HOME,
) -> Response:
    """Verify an admin token and keep it in the session cookie for the rest of its life."""
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
    expires = int(jwt.decode(token, options={"verify_signature": False})["exp"])
    response = RedirectResponse(next_url, 303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=max(expires - int(time.time()), 1),
        path=COOKIE_PATH,
        secure=_secure(settings),
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/logout")
def sign_out(settings: SettingsDep) -> Response:
    """End the session: the cookie is cleared and the sign-in form shown."""
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
