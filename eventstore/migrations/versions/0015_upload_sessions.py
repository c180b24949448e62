"""``upload_sessions``: one row per upload session, for its deadline and its owner's listing.

The parts themselves (number, size, ETag) stay in the aggregate's events; this row says where
each session stands, so the deadlines find an open session past ``expires_at`` through the
partial index below.

Revision ID: 0015
Revises: 0014
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE upload_sessions (
            session_id uuid PRIMARY KEY,
            user_id uuid NOT NULL,
            state text NOT NULL,
            reason text,
            object_key text NOT NULL,
            size bigint NOT NULL,
            content_type text NOT NULL,
            part_count integer NOT NULL,
            opened_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            ended_at timestamptz,
            updated_at timestamptz NOT NULL,
            version bigint NOT NULL
        );
        CREATE INDEX upload_sessions_open_expires_at_idx ON upload_sessions (expires_at)
            WHERE state = 'open';
        CREATE INDEX upload_sessions_user_idx ON upload_sessions (user_id, opened_at);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE upload_sessions;")
