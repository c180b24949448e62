"""``chat_messages`` holds the assistant's replies: no member wrote them (``user_id`` null),
each answers a message (``reply_to``) with an ``outcome`` and, unless complete, a ``notice``;
``chat_rooms`` says which rooms are the assistant's (every message asks it); a message may
carry a completed upload (``attachment``).

Revision ID: 0017
Revises: 0016
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE chat_messages
            ALTER COLUMN user_id DROP NOT NULL,
            ALTER COLUMN client_id DROP NOT NULL,
            ADD COLUMN reply_to uuid,
            ADD COLUMN outcome text,
            ADD COLUMN notice text,
            ADD COLUMN attachment jsonb;
        ALTER TABLE chat_rooms ADD COLUMN assistant boolean NOT NULL DEFAULT false;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE chat_rooms DROP COLUMN assistant;
        DELETE FROM chat_messages WHERE user_id IS NULL;
        ALTER TABLE chat_messages
            DROP COLUMN attachment,
            DROP COLUMN notice,
            DROP COLUMN outcome,
            DROP COLUMN reply_to,
            ALTER COLUMN client_id SET NOT NULL,
            ALTER COLUMN user_id SET NOT NULL;
        """
    )
