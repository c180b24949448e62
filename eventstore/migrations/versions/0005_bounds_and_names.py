"""Columns sized for what the domain allows, and one name per concept.

Balances reach ``MAX_CREDITS`` (10**12), past PostgreSQL's ``integer``: ``user_summary``,
``credit_ledger`` and the credits of ``jobs_log`` become ``bigint``. The count of a job's
succeeded items is ``succeeded_items`` (``done`` is a status).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE user_summary
            ALTER COLUMN credits TYPE bigint,
            ALTER COLUMN reserved_credits TYPE bigint;
        ALTER TABLE credit_ledger
            ALTER COLUMN amount TYPE bigint,
            ALTER COLUMN delta TYPE bigint;
        ALTER TABLE jobs_log
            ALTER COLUMN reserved TYPE bigint,
            ALTER COLUMN consumed TYPE bigint;
        ALTER TABLE jobs_log RENAME COLUMN done_items TO succeeded_items;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE jobs_log RENAME COLUMN succeeded_items TO done_items;
        ALTER TABLE jobs_log
            ALTER COLUMN reserved TYPE integer,
            ALTER COLUMN consumed TYPE integer;
        ALTER TABLE credit_ledger
            ALTER COLUMN amount TYPE integer,
            ALTER COLUMN delta TYPE integer;
        ALTER TABLE user_summary
            ALTER COLUMN credits TYPE integer,
            ALTER COLUMN reserved_credits TYPE integer;
        """
    )
