"""Every indexed text column of every read model holds the longest value that can reach it.

A b-tree (or GIN) index row holds at most ~2.7 KB: a longer value fails its projection on every
try. The probe lists the text columns in the indexes of the tables the registry's projections
own; each must be named in ``PROOFS`` and proved here, by storing a maximal value through the
projection or by showing that the domain bounds it. A new index on text fails the first test
until it has its proof.
"""

import random
from datetime import UTC, datetime
from uuid import uuid4

import psycopg
import pytest

from domain.errors import InvalidCommand
from domain.mbti import TYPES
from domain.testcontent import MAX_TAG, MAX_TAGS, DocumentLimits, check_document
from eventstore.decoding import UnresolvedEvent
from projections.audit.projection import MAX_INDEXED, AuditLogProjection
from projections.registry import all_projections
from tests.integration.testcatalog import site_fixture  # noqa: F401  (the ``site`` fixture)
from tests.unit.documents import document

PROOFS = {
    ("audit_log", "aggregate_type"): "cut by the projection",
    ("audit_log", "event_type"): "cut by the projection",
    ("audit_log", "actor"): "cut by the projection",
    ("audit_log", "correlation_id"): "cut by the projection",
    ("test_catalog", "tag_keys"): "MAX_TAG characters, stored at their longest after NFKC",
    ("test_stats", "mbti"): "one of the 16 types the domain computes",
    ("credit_ledger", "kind"): "one of four words, by a CHECK constraint",
}
INDEXED_TEXT = """
    SELECT DISTINCT c.relname, a.attname
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)
    WHERE c.relnamespace = 'public'::regnamespace AND c.relname = ANY (%s)
      AND a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'text[]'::regtype,
                         'varchar[]'::regtype, 'bpchar'::regtype)
"""
HANGUL = [chr(c) for c in range(0xAC00, 0xD7A4)]  # 3 bytes each, and pglz cannot shrink them


def noise(length: int) -> str:
    return "".join(random.Random(length).choices(HANGUL, k=length))


def test_every_indexed_text_column_of_a_read_model_has_a_proof(clean_dsn):
    tables = sorted({table for p in all_projections() for table in p.tables})
    with psycopg.connect(clean_dsn) as conn:
        found = {(table, column) for table, column in conn.execute(INDEXED_TEXT, (tables,))}

    assert found == set(PROOFS)


def test_the_audit_log_stores_an_event_whose_indexed_text_is_far_too_long(clean_dsn):
    topic = f"domain.{noise(4000)}:{noise(4000)}.{noise(4000)}"
    metadata = {"actor": "admin:" + noise(3000), "correlation_id": noise(4000)}
    event = UnresolvedEvent(topic, uuid4(), 1, {}, datetime.now(UTC), metadata)

    with psycopg.connect(clean_dsn) as conn, conn.cursor() as cur:
        AuditLogProjection().project(cur, 1, event)
        row = cur.execute(
            "SELECT aggregate_type, event_type, actor, correlation_id FROM audit_log"
        ).fetchone()

    assert row is not None
    assert {len(text) for text in row} == {MAX_INDEXED}
    assert all(text.endswith("…") for text in row)
    assert row[2].startswith("admin:")


def test_the_test_catalog_stores_the_longest_tags_the_domain_accepts(site, clean_dsn):
    # U+FDFA is the character NFKC expands most (to 18): the longest tag key there can be.
    tags = ["\ufdfa" * (MAX_TAG - 1) + HANGUL[i] for i in range(MAX_TAGS)]

    test_id = site.create(tags=tags)

    with psycopg.connect(clean_dsn) as conn:
        keys = conn.execute(
            "SELECT tag_keys FROM test_catalog WHERE test_id = %s", (test_id,)
        ).fetchone()
    assert keys is not None and len(keys[0]) == MAX_TAGS
    with pytest.raises(InvalidCommand, match=f"1 to {MAX_TAG} characters"):
        check_document(document(tags=["a" * (MAX_TAG + 1)]), DocumentLimits())


def test_a_test_stats_type_is_one_of_the_sixteen_the_domain_computes():
    assert len(TYPES) == 16
    assert {len(mbti) for mbti in TYPES} == {4}


def test_a_credit_ledger_kind_is_bounded_by_its_check_constraint(clean_dsn):
    with psycopg.connect(clean_dsn) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO credit_ledger (position, user_id, kind, amount, delta, actor, "
            "occurred_at) VALUES (1, %s, %s, 1, 1, 'system', now())",
            (uuid4(), noise(3000)),
        )
