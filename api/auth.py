"""JWT (HS256) tokens: who the caller is and in which role."""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from api.settings import Settings
from domain.errors import Forbidden, Unauthenticated

ROLES = ("user", "admin", "worker")
VERIFIED_CACHE = 4096  # tokens whose signature was checked, kept until they expire
# A subject becomes an actor, which read models index (a b-tree holds at most ~2.7 KB a row).
MAX_SUBJECT = 200


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. ``position`` is where their account was created in the log."""

    subject: str
    role: str
    position: int = 0

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.subject}"

    def require(self, role: str) -> None:
        if self.role != role:
            raise Forbidden(f"this endpoint needs the {role!r} role, the token has {self.role!r}")


class TokenIssuer:
    """Signs and verifies tokens with one secret."""

    def __init__(self, secret: str, settings: Settings) -> None:
        self._secret = secret
        self._ttl = {
            "user": settings.user_token_days * 86400,
            "admin": settings.admin_token_minutes * 60,
            "worker": settings.worker_token_days * 86400,
        }
        # Per issuer (one secret); functools' LRU is thread-safe and never keeps an exception.
        self._verified = functools.lru_cache(maxsize=VERIFIED_CACHE)(self._check)

    def issue(self, subject: str, role: str, *, position: int = 0, ttl: int | None = None) -> str:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        if not 0 < len(subject) <= MAX_SUBJECT:
            raise ValueError(f"a token's subject is 1 to {MAX_SUBJECT} characters")
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": subject,
            "role": role,
            "iat": now,
            "exp": now + (ttl or self._ttl[role]),
        }
        if position:
            claims["pos"] = position
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        """The caller ``token`` names, or ``Unauthenticated``.

        A token's signature is checked once: what it names is then remembered (the last
        ``VERIFIED_CACHE`` tokens, an LRU) until it expires. A refused token is never kept.
        """
        principal, expires = self._verified(token)
        if expires <= time.time():
            raise Unauthenticated("the token has expired")
        return principal

    def _check(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"require": ["sub", "exp"]}
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.InvalidTokenError:
            # The library's reason says how verification failed: nothing a client should learn.
            raise Unauthenticated("the token is invalid") from None
        role = claims.get("role", "user")
        if role not in ROLES:
            raise Unauthenticated(f"the token names an unknown role {role!r}")
        subject = str(claims["sub"])
        if len(subject) > MAX_SUBJECT:
            # Signed here before subjects were bounded: refused rather than put in the log.
            raise Unauthenticated(f"the token's subject is longer than {MAX_SUBJECT} characters")
        principal = Principal(subject, role, int(claims.get("pos", 0)))
        return principal, float(claims["exp"])


def load_secret(settings: Settings) -> str:
    """The configured secret, else one generated once and kept in the data dir."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    path = settings.data_dir / "jwt_secret"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".jwt_secret.{os.getpid()}")
        draft.touch(mode=0o600)
        draft.write_text(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):  # another process was first: keep theirs
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()
