"""The ``audit_log`` read model: one row per event, for the admin audit viewer and its JSON API.

``position`` is the event's log position (the cursor of every newest-first page);
``recorded_at`` the event's own timestamp; ``aggregate_type`` and ``event_type`` come from its
topic (``UserCredits``, ``UserCredits.Reserved``); ``actor``, ``correlation_id`` and
``causation_id`` from its metadata; ``data`` holds the event's own fields as JSON. A stored
event whose topic names no class any more keeps its ``topic`` and raw fields (``resolved`` false).
Each filter has an index ending in ``position``, so that a filtered page newest first is an
index scan that stops after the page, whatever the size of the log.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE audit_log (
            position bigint PRIMARY KEY,
            recorded_at timestamptz NOT NULL,
            aggregate_type text NOT NULL,
            aggregate_id uuid NOT NULL,
            version bigint NOT NULL,
            event_type text NOT NULL,
            topic text NOT NULL,
            resolved boolean NOT NULL,
            actor text NOT NULL,
            correlation_id text NOT NULL,
            causation_id text NOT NULL,
            data jsonb NOT NULL
        );
        CREATE INDEX audit_log_aggregate_type_idx ON audit_log (aggregate_type, position);
        CREATE INDEX audit_log_aggregate_id_idx ON audit_log (aggregate_id, position);
        CREATE INDEX audit_log_event_type_idx ON audit_log (event_type, position);
        CREATE INDEX audit_log_actor_idx ON audit_log (actor, position);
        CREATE INDEX audit_log_correlation_id_idx ON audit_log (correlation_id, position);
        CREATE INDEX audit_log_recorded_at_idx ON audit_log (recorded_at, position);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE audit_log;")
