"""``admin_sessions``: the audit viewer's sign-in sessions, kept on the server and revocable.

The browser's cookie holds a random session id; only its SHA-256 is stored (``id_hash``), so
the table leaks no usable session. ``csrf`` is the token the sign-out form must send back.
A session ends at ``expires_at`` (never past its admin token's expiry) or when ``revoked_at``
is set (sign-out).

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE admin_sessions (
            id_hash bytea PRIMARY KEY,
            subject text NOT NULL,
            csrf text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz
        );
        CREATE INDEX admin_sessions_expires_at_idx ON admin_sessions (expires_at);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE admin_sessions;")
