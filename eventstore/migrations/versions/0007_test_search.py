"""Search: ``test_search``, the PostgreSQL search index of published tests (and its tombstones).

A row per test id at its latest indexed ``version``; ``listed`` is false for a tombstone (the
test was unpublished or deleted at that version), whose text columns are empty. ``body`` is the
normalised text (title, description, tags) with a trigram index for typo-tolerant matching of
words (``pg_trgm``'s ``%>``); ``grams`` holds the characters and character pairs of every word
with a GIN index, which finds a two-syllable Korean word inside a longer one. ``tag_keys`` are
the normalised tags, for the tag filter. Hits are listed by ``position`` (the log position
of the indexed version; none on a tombstone), newest first.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE TABLE test_search (
            id uuid PRIMARY KEY,
            version bigint NOT NULL,
            position bigint,
            listed boolean NOT NULL,
            title text NOT NULL,
            description text NOT NULL,
            tags text[] NOT NULL,
            tag_keys text[] NOT NULL,
            thumbnail text,
            updated_at timestamptz,
            body text NOT NULL,
            grams text[] NOT NULL
        );
        CREATE INDEX test_search_position_idx ON test_search (position) WHERE listed;
        CREATE INDEX test_search_grams_idx ON test_search USING gin (grams);
        CREATE INDEX test_search_body_trgm_idx ON test_search USING gin (body gin_trgm_ops);
        CREATE INDEX test_search_tag_keys_idx ON test_search USING gin (tag_keys);
        """
    )


def downgrade() -> None:
    # The extension goes too: nothing before this revision uses it.
    op.execute("DROP TABLE test_search; DROP EXTENSION IF EXISTS pg_trgm;")
