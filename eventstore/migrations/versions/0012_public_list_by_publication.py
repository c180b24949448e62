"""The public test list in order of first publication: an index on ``(published_at, test_id)``.

The public list (``GET /api/tests``) was ordered by ``position``, the log position of each
test's last change, so an edit moved a test to the top and a visitor paging through the list
skipped or saw again a test an admin saved meanwhile. It is now ordered by ``published_at``
(the first publication, which no later event changes), ties broken by ``test_id``, newest
first: this partial index serves it, and ``test_catalog_public_idx`` (by ``position``), which
no query uses any more, goes. The admin list keeps ``test_catalog_admin_idx``.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE INDEX test_catalog_published_idx ON test_catalog (published_at, test_id)
            WHERE published AND NOT deleted;
        DROP INDEX test_catalog_public_idx;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        CREATE INDEX test_catalog_public_idx ON test_catalog (position DESC)
            WHERE published AND NOT deleted;
        DROP INDEX test_catalog_published_idx;
        """
    )
