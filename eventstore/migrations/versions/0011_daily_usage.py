"""``user_summary.usage``: each kind of daily use (jobs, assistant turns) and its count that day.

``{"jobs": ["2026-12-04", 3]}``: the UTC day of the last use of each kind and the uses that day,
as ``UserCredits.QuotaUsed`` events counted them; ``GET /me`` answers usage against the plan's
quota from it. Existing rows start empty (no use counted yet).

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE user_summary ADD COLUMN usage jsonb NOT NULL DEFAULT '{}'")


def downgrade() -> None:
    op.execute("ALTER TABLE user_summary DROP COLUMN usage")
