"""Test site read models: ``test_catalog`` (the tests, as admins and the public read them) and
``test_stats`` (takes per test and MBTI type).

A ``test_catalog`` row per test at the ``version`` of its last event, applied at log
``position`` (unique per row: no two rows share the event that last moved them, which makes
``position`` the cursor of the newest-first lists). ``document`` is the whole document;
``title``, ``description``, ``tags`` and ``thumbnail`` are copied out of it for lists,
``tag_keys`` are the tags as the tag filter compares them (``adapters.search.text.tag_key``).
``updated_at`` and ``saved_by`` are the time and actor of the last event, ``published_at``
the time of the first publication. A deleted test keeps its row (``deleted``). The partial
indexes serve the public list (published, not deleted) and the admin list (not deleted), both
by ``position`` descending; a GIN index on ``tag_keys`` serves the tag filter.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE test_catalog (
            test_id uuid PRIMARY KEY,
            version bigint NOT NULL,
            position bigint NOT NULL,
            title text NOT NULL,
            description text NOT NULL,
            tags text[] NOT NULL,
            tag_keys text[] NOT NULL,
            thumbnail text,
            document jsonb NOT NULL,
            published boolean NOT NULL DEFAULT false,
            deleted boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            saved_by text NOT NULL,
            published_at timestamptz
        );
        CREATE INDEX test_catalog_public_idx ON test_catalog (position DESC)
            WHERE published AND NOT deleted;
        CREATE INDEX test_catalog_admin_idx ON test_catalog (position DESC) WHERE NOT deleted;
        CREATE INDEX test_catalog_tag_keys_idx ON test_catalog USING gin (tag_keys);
        CREATE TABLE test_stats (
            test_id uuid NOT NULL,
            mbti text NOT NULL,
            takes bigint NOT NULL,
            PRIMARY KEY (test_id, mbti)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE test_stats, test_catalog;")
