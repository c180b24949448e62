"""The event store (the eventsourcing library's table shape), idempotency and projection positions.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE chronicle_events (
            originator_id uuid NOT NULL,
            originator_version bigint NOT NULL,
            topic text,
            state bytea,
            notification_id bigserial,
            PRIMARY KEY (originator_id, originator_version)
        ) WITH (
            autovacuum_enabled = true,
            autovacuum_vacuum_threshold = 100000000,
            autovacuum_vacuum_scale_factor = 0.5,
            autovacuum_analyze_threshold = 1000,
            autovacuum_analyze_scale_factor = 0.01
        );
        CREATE UNIQUE INDEX chronicle_events_notification_id_idx
            ON chronicle_events (notification_id ASC);
        CREATE TYPE stored_event_uuid AS (
            originator_id uuid, originator_version bigint, topic text, state bytea
        );
        CREATE TABLE chronicle_snapshots (
            originator_id uuid NOT NULL,
            originator_version bigint NOT NULL,
            topic text,
            state bytea,
            PRIMARY KEY (originator_id, originator_version)
        );
        CREATE TABLE command_idempotency (
            key text PRIMARY KEY,
            fingerprint text NOT NULL,
            outcome jsonb NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE projection_position (
            name text PRIMARY KEY,
            position bigint NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE projection_position;
        DROP TABLE command_idempotency;
        DROP TABLE chronicle_snapshots;
        DROP TYPE stored_event_uuid;
        DROP TABLE chronicle_events;
        """
    )
