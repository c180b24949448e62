"""Admin sessions kept on the server: opened at sign-in, found per page, revoked at sign-out.

The cookie carries a random id (256 bits); the table holds its SHA-256 only, so whoever reads
the table holds no session. A session ends at its expiry or when revoked, whatever the cookie.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AdminSessionRow:
    """A live session: whose, and the CSRF token its state-changing forms must send back."""

    subject: str
    csrf: str


def open_session(pool: Any, subject: str, expires_at: datetime) -> tuple[str, str]:
    """A new session of ``subject`` until ``expires_at``: its id (the cookie's) and CSRF token."""
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with pool.connection() as conn:
        # Sessions long over are of no use, even to an audit: each sign-in sweeps them.
        conn.execute("DELETE FROM admin_sessions WHERE expires_at < now() - interval '1 day'")
        conn.execute(
            "INSERT INTO admin_sessions (id_hash, subject, csrf, expires_at) "
            "VALUES (%s, %s, %s, %s)",
            (_hash(session_id), subject, csrf, expires_at),
        )
    return session_id, csrf


def find_session(pool: Any, session_id: str) -> AdminSessionRow | None:
    """The live session ``session_id`` names, or None (unknown, expired or revoked)."""
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT subject, csrf FROM admin_sessions WHERE id_hash = %s "
            "AND revoked_at IS NULL AND expires_at > now()",
            (_hash(session_id),),
        ).fetchone()
    if row is None:
        return None
    subject, csrf = (row["subject"], row["csrf"]) if isinstance(row, dict) else row
    return AdminSessionRow(subject, csrf)


def revoke_session(pool: Any, session_id: str) -> None:
    """End ``session_id`` now: a copy of its cookie is no session any more."""
    with pool.connection() as conn:
        conn.execute(
            "UPDATE admin_sessions SET revoked_at = now() "
            "WHERE id_hash = %s AND revoked_at IS NULL",
            (_hash(session_id),),
        )


def _hash(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode()).digest()
