"""``chat_rooms``, ``chat_members``, ``chat_messages``: the chat rooms' read model.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE chat_rooms (
            room_id uuid PRIMARY KEY,
            name text NOT NULL,
            private boolean NOT NULL,
            owner_id uuid NOT NULL,
            closed boolean NOT NULL,
            created_at timestamptz NOT NULL,
            position bigint NOT NULL
        );
        CREATE TABLE chat_members (
            room_id uuid NOT NULL,
            user_id uuid NOT NULL,
            joined_at timestamptz NOT NULL,
            PRIMARY KEY (room_id, user_id)
        );
        CREATE TABLE chat_messages (
            message_id uuid PRIMARY KEY,
            room_id uuid NOT NULL,
            position bigint NOT NULL,
            user_id uuid NOT NULL,
            client_id text NOT NULL,
            text text,
            posted_at timestamptz NOT NULL,
            edited_at timestamptz,
            deleted_at timestamptz
        );
        CREATE INDEX chat_messages_room_position_idx ON chat_messages (room_id, position);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE chat_messages; DROP TABLE chat_members; DROP TABLE chat_rooms;")
