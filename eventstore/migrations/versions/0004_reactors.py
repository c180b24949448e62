"""Projections and reactors: a consumer's kind and failed state, and reactors' dead letters.

``projection_position`` holds the position of every consumer of the log; ``kind`` says whether
it is a projection (exactly once) or a reactor (at least once). A projection stopped by a poison
event is ``failed`` at ``failed_position`` with ``error``. ``dead_letters`` keeps what a reactor
could not deliver (``parked``), the later events of the same aggregate (``waiting``), those an
admin asked for again (``retrying``) and, for the record, those finally ``delivered``.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE projection_position
            ADD COLUMN kind text NOT NULL DEFAULT 'projection'
                CHECK (kind IN ('projection', 'reactor')),
            ADD COLUMN state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'failed')),
            ADD COLUMN failed_position bigint,
            ADD COLUMN error text,
            ADD COLUMN failed_at timestamptz;
        UPDATE projection_position SET kind = 'reactor' WHERE name = 'job_settlement';
        CREATE TABLE dead_letters (
            id bigserial PRIMARY KEY,
            reactor text NOT NULL,
            position bigint NOT NULL,
            aggregate_id uuid NOT NULL,
            aggregate_version bigint NOT NULL,
            topic text NOT NULL,
            state text NOT NULL
                CHECK (state IN ('parked', 'waiting', 'retrying', 'delivered')),
            attempts integer NOT NULL DEFAULT 0,
            error text,
            first_failed_at timestamptz,
            last_failed_at timestamptz,
            delivered_at timestamptz,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (reactor, position)
        );
        CREATE INDEX dead_letters_open_idx ON dead_letters (reactor, aggregate_id, position)
            WHERE state <> 'delivered';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE dead_letters;
        ALTER TABLE projection_position
            DROP COLUMN kind, DROP COLUMN state, DROP COLUMN failed_position,
            DROP COLUMN error, DROP COLUMN failed_at;
        """
    )
