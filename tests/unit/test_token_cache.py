"""Verified tokens are remembered until they expire: a signature is checked once per token."""

import jwt
import pytest

import api.auth
from api.auth import TokenIssuer
from api.settings import Settings
from domain.errors import Unauthenticated

SECRET = "a-secret-of-at-least-thirty-two-bytes-for-hs256"
OTHER = "another-secret-of-at-least-thirty-two-bytes-hs256"
USER = "9c6f3c36-1111-4111-8111-111111111111"


def issuer(secret=SECRET):
    return TokenIssuer(secret, Settings(jwt_secret=secret))


@pytest.fixture
def decodes(monkeypatch):
    calls = []
    real = jwt.decode

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(api.auth.jwt, "decode", counting)
    return calls


def test_a_token_is_checked_once_then_remembered(decodes):
    tokens = issuer()
    token = tokens.issue(USER, "user", position=7)

    first, second = tokens.verify(token), tokens.verify(token)

    assert first == second == api.auth.Principal(USER, "user", 7)
    assert decodes == [token]


def test_a_remembered_token_still_expires(monkeypatch):
    tokens = issuer()
    token = tokens.issue(USER, "user", ttl=60)
    tokens.verify(token)
    now = api.auth.time.time()

    monkeypatch.setattr(api.auth.time, "time", lambda: now + 61)

    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(token)


def test_refusals_are_never_remembered(decodes):
    tokens = issuer()
    forged = issuer(OTHER).issue(USER, "user")

    for _ in range(2):
        with pytest.raises(Unauthenticated, match="invalid"):
            tokens.verify(forged)

    assert decodes == [forged, forged]


def test_each_issuer_remembers_only_what_its_own_secret_signed():
    mine, theirs = issuer(), issuer(OTHER)
    token = mine.issue(USER, "admin")
    assert mine.verify(token).role == "admin"

    with pytest.raises(Unauthenticated, match="invalid"):
        theirs.verify(token)
