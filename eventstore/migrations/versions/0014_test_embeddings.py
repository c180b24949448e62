"""Meaning search: ``test_embeddings``, one vector per (model, test), and the models embedded.

A row per ``(model, test_id)`` at the latest embedded ``version`` of the test; ``listed`` is
false for a tombstone (unpublished or deleted at that version: no vector). ``text_sha256`` is
the digest of the text that was embedded, so an edit that leaves it unchanged (a question, an
image) moves the version without embedding again. The hit's fields (title, tags, thumbnail,
updated_at, position) are kept beside the vector, so a meaning search answers from this table
alone. Keyed by model: vectors of different models never meet in one ranking.

``test_embedding_models`` records each model the reactor has embedded with and ``complete_at``,
the log head when it started: the model is complete once the ``test_embeddings`` reactor's
position reached it, and queries read the newest complete model (the old vectors serve while
a new model re-embeds everything).

With the ``vector`` extension (pgvector; the embedded PostgreSQL 18 has it) ``vector`` is a
pgvector column with an HNSW cosine index over 512-dimension vectors (the default model's);
without it (the system PostgreSQL 15 here) it is ``real[]`` and the API ranks in its process.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLE = """
    CREATE TABLE test_embeddings (
        model text NOT NULL,
        test_id uuid NOT NULL,
        version bigint NOT NULL,
        position bigint,
        listed boolean NOT NULL,
        dimension integer NOT NULL,
        text_sha256 text,
        vector {vector_type},
        title text NOT NULL,
        tags text[] NOT NULL,
        tag_keys text[] NOT NULL,
        thumbnail text,
        updated_at timestamptz,
        PRIMARY KEY (model, test_id)
    );
    CREATE TABLE test_embedding_models (
        model text PRIMARY KEY,
        dimension integer NOT NULL,
        complete_at bigint NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now()
    );
"""


def upgrade() -> None:
    bind = op.get_bind()
    available = bind.exec_driver_sql(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector')"
    ).scalar()
    if available:
        op.execute("CREATE EXTENSION IF NOT EXISTS vector")
        op.execute(TABLE.format(vector_type="vector"))
        # An HNSW index needs a fixed dimension: an expression index per dimension, used by a
        # query that casts the same way and filters on the same dimension.
        op.execute(
            "CREATE INDEX test_embeddings_hnsw_512 ON test_embeddings "
            "USING hnsw ((vector::vector(512)) vector_cosine_ops) "
            "WHERE listed AND dimension = 512"
        )
    else:
        op.execute(TABLE.format(vector_type="real[]"))


def downgrade() -> None:
    # The extension goes too: nothing before this revision uses it.
    op.execute(
        "DROP TABLE test_embeddings; DROP TABLE test_embedding_models;"
        " DROP EXTENSION IF EXISTS vector;"
    )
