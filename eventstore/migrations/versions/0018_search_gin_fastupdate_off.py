"""The keyword index's GIN indexes write straight into the index (``fastupdate = off``).

With ``fastupdate`` on, PostgreSQL queues new entries in a pending list that every search
scans in full until a vacuum (or 4 MB of entries) merges it: after a burst of new or edited
tests a keyword search read thousands of pending entries (p99 469 ms on 10,000 tests in
``bench/bench_semantic.py``). Off, each write pays its own index update, which the
``test_search`` reactor does off the request path, and searches read only the index.

Revision ID: 0018
Revises: 0017
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

INDEXES = ("test_search_grams_idx", "test_search_body_trgm_idx", "test_search_tag_keys_idx")


def upgrade() -> None:
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        # What its pending list holds moves into the index now, not at the next vacuum.
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def downgrade() -> None:
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (fastupdate)")
