"""Each embedded test's language group, a column: ``korean`` (Hangul in its title or a tag).

Similar tests are ranked centred per language group (``projections/testembeddings/similar.py``):
each group's nearest tests come through the HNSW index with the group as a filter. Written as
an expression over the title and tags, the filter of the other group was estimated at one row,
and the planner read the whole table instead of the index (30 ms against 1 ms for 10,000
tests); a column has statistics. The writer sets it; here the rows already there get theirs.

Revision ID: 0020
Revises: 0019
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE test_embeddings ADD COLUMN korean boolean NOT NULL DEFAULT false")
    op.execute(
        "UPDATE test_embeddings SET korean = true"
        " WHERE title ~ '[가-힣]' OR array_to_string(tags, ' ') ~ '[가-힣]'"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE test_embeddings DROP COLUMN korean")
