"""Signing in to the audit pages over HTTP: the session cookie and its flags, who is refused,
where sign-in returns to, sign-out."""

import uuid

import psycopg
import pytest

from tests.e2e.auditsession import PAGES, admin_token, csrf_of, sign_in


def test_sign_in_sets_an_http_only_strict_cookie_that_lives_as_long_as_the_token(http, live_server):
    token = admin_token(live_server, ttl=600)

    response = sign_in(http, token)

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/audit"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("chronicle_admin=") and token not in cookie  # an opaque session id
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/admin"} <= flags
    assert "secure" not in flags  # served over http here
    [max_age] = [int(f.split("=")[1]) for f in flags if f.startswith("max-age=")]
    assert 590 <= max_age <= 600


def test_the_session_cookie_is_secure_when_the_api_is_public_over_https(running, client):
    running.settings.public_base_url = "https://chronicle.example"
    token = running.tokens.issue("ann", "admin")

    response = client.post("/admin/login", data={"token": token}, follow_redirects=False)

    assert response.status_code == 303
    assert "secure" in {p.strip().lower() for p in response.headers["set-cookie"].split(";")}


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("cookie", [None, "not-a-token"])
def test_a_page_without_an_admin_session_redirects_to_sign_in_and_back(http, path, cookie):
    if cookie:
        http.cookies.set("chronicle_admin", cookie, path="/admin")

    response = http.get(path)

    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/admin/login?next=")
    form = http.get(location)
    assert form.status_code == 200
    assert f'name="next" value="{path.replace("&", "&amp;")}"' in form.text


@pytest.mark.parametrize("role", ["user", "worker"])
def test_a_user_or_worker_token_is_refused_at_sign_in(http, live_server, role):
    token = live_server.services.tokens.issue(str(uuid.uuid4()), role)

    response = sign_in(http, token)

    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert f"This is a {role} token: the audit log needs an admin token." in response.text
    assert http.get("/admin/audit").status_code == 303


@pytest.mark.parametrize(
    ("token", "status", "says"),
    [("", 422, "Paste an admin token"), ("garbage", 401, "the token is invalid")],
)
def test_an_empty_or_invalid_token_is_refused_naming_why(http, token, status, says):
    response = sign_in(http, token)

    assert response.status_code == status
    assert says in response.text
    assert "set-cookie" not in response.headers


def test_an_expired_admin_token_is_refused_at_sign_in(http, live_server):
    expired = live_server.services.tokens.issue("ann", "admin", ttl=-60)

    response = sign_in(http, expired)

    assert response.status_code == 401
    assert "the token has expired" in response.text


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(http, live_server):
    token = admin_token(live_server)

    back = sign_in(http, token, next="/admin/audit?actor=admin%3Aann")
    away = sign_in(http, token, next="https://evil.example/admin/")
    sideways = sign_in(http, token, next="//evil.example/admin/")

    assert back.headers["location"] == "/admin/audit?actor=admin%3Aann"
    assert away.headers["location"] == "/admin/audit"
    assert sideways.headers["location"] == "/admin/audit"


def test_a_session_ends_at_its_own_lifetime_before_a_longer_token(http, live_server):
    token = admin_token(live_server, ttl=24 * 3600)
    minutes = live_server.services.settings.admin_session_minutes

    cookie = sign_in(http, token).headers["set-cookie"].lower()

    [max_age] = [int(f.split("=")[1]) for f in cookie.split("; ") if f.startswith("max-age=")]
    assert max_age == minutes * 60 < 24 * 3600


def test_sign_out_clears_the_cookie_and_the_pages_ask_for_sign_in_again(signed_in):
    csrf = csrf_of(signed_in.get("/admin/audit"))

    response = signed_in.post("/admin/logout", data={"csrf": csrf})

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login"
    cleared = response.headers["set-cookie"].lower()
    assert cleared.startswith('chronicle_admin="";') and "max-age=0" in cleared
    assert "path=/admin" in cleared
    assert signed_in.get("/admin/audit").status_code == 303


def test_a_copied_session_cookie_stops_working_after_sign_out(signed_in, live_server):
    copied = signed_in.cookies.get("chronicle_admin", path="/admin")
    csrf = csrf_of(signed_in.get("/admin/audit"))

    assert signed_in.post("/admin/logout", data={"csrf": csrf}).status_code == 303

    signed_in.cookies.set("chronicle_admin", copied, path="/admin")
    assert signed_in.get("/admin/audit").status_code == 303


def test_an_expired_session_redirects_to_sign_in(signed_in, live_server):
    with psycopg.connect(live_server.services.dsn) as conn:
        conn.execute("UPDATE admin_sessions SET expires_at = now() - interval '1 second'")

    response = signed_in.get("/admin/audit")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=")


@pytest.mark.parametrize("form", [{}, {"csrf": "forged"}])
def test_sign_out_without_the_sessions_csrf_token_is_refused(signed_in, form):
    response = signed_in.post("/admin/logout", data=form)

    assert response.status_code == 403
    assert "CSRF token" in response.text
    assert "set-cookie" not in response.headers
    assert signed_in.get("/admin/audit").status_code == 200
