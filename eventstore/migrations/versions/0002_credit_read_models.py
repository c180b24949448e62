"""Read models of UserCredits: user_summary and credit_ledger.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE user_summary (
            user_id uuid PRIMARY KEY,
            plan text NOT NULL,
            credits integer NOT NULL,
            reserved_credits integer NOT NULL,
            active_jobs integer NOT NULL,
            max_concurrent_jobs integer NOT NULL,
            rule_slots_used integer NOT NULL,
            rule_slots_limit integer NOT NULL,
            version bigint NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL
        );
        CREATE TABLE credit_ledger (
            id bigserial PRIMARY KEY,
            position bigint NOT NULL,
            user_id uuid NOT NULL,
            kind text NOT NULL CHECK (kind IN ('grant', 'reservation', 'commit', 'refund')),
            job_id text,
            amount integer NOT NULL CHECK (amount >= 0),
            delta integer NOT NULL,
            reason text,
            actor text NOT NULL,
            occurred_at timestamptz NOT NULL,
            UNIQUE (position, kind)
        );
        CREATE INDEX credit_ledger_user_idx ON credit_ledger (user_id, id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE credit_ledger; DROP TABLE user_summary;")
