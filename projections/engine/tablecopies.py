"""The tables of a rebuild: empty copies of a projection's tables, and the swap that serves them.

A copy lives in schema ``chronicle_rebuild`` under the same name, with the same columns,
defaults, checks, keys and index names (names are per schema, so they can be the same). The
swap moves the serving tables to ``chronicle_retired`` and the copies to ``public`` inside the
caller's transaction; ``projections.engine.rebuild`` says when.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from projections.engine.runner import Projection

SHADOW, RETIRED = "chronicle_rebuild", "chronicle_retired"


def create_copy(conn: psycopg.Connection[Any], table: str) -> None:
    """An empty copy of ``public.<table>`` in the shadow schema, keys and indexes named alike."""
    conn.execute("SET LOCAL search_path = ''")  # definitions come back schema-qualified
    source, target = sql.Identifier("public", table), sql.Identifier(SHADOW, table)
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(target))
    conn.execute(
        sql.SQL(
            "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
            "INCLUDING GENERATED INCLUDING IDENTITY INCLUDING STORAGE)"
        ).format(target, source)
    )
    oid = f"public.{table}"
    for name, definition in conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'x')",
        (oid,),
    ).fetchall():
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                target, sql.Identifier(name), sql.SQL(definition)
            )
        )
    for (definition,) in conn.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
        "AND c.conrelid = i.indrelid)",
        (oid,),
    ).fetchall():
        qualified = f" ON public.{table} "
        if qualified not in definition:
            raise RuntimeError(f"cannot copy an index of {table}: {definition}")
        conn.execute(definition.replace(qualified, f" ON {SHADOW}.{table} ", 1))
    conn.execute("SET LOCAL search_path = DEFAULT")


def swap_tables(cur: psycopg.Cursor[Any], projection: Projection) -> None:
    """Serve the copies: the old tables to RETIRED, the copies to public, sequences handed over."""
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {RETIRED}")
    sequences = []
    for table in projection.tables:
        # A serial column's sequence would move (and be dropped) with the old table: the new
        # table's default already uses it, so it is detached here and given to the new table.
        for sequence, column in cur.execute(
            "SELECT s.oid::regclass::text, a.attname FROM pg_depend d "
            "JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S' "
            "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
            "WHERE d.refobjid = %s::regclass AND d.deptype = 'a'",
            (f"public.{table}",),
        ).fetchall():
            cur.execute(sql.SQL("ALTER SEQUENCE {} OWNED BY NONE").format(sql.SQL(sequence)))
            sequences.append((sequence, table, column))
        public, shadow = sql.Identifier("public", table), sql.Identifier(SHADOW, table)
        cur.execute(sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(public, sql.Identifier(RETIRED)))
        cur.execute(sql.SQL("ALTER TABLE {} SET SCHEMA public").format(shadow))
    for sequence, table, column in sequences:
        cur.execute(
            sql.SQL("ALTER SEQUENCE {} OWNED BY {}").format(
                sql.SQL(sequence), sql.Identifier("public", table, column)
            )
        )
    carry_over = getattr(projection, "carry_over", None)
    if carry_over is not None:
        carry_over(cur, RETIRED)


def analyze(conn: psycopg.Connection[Any], projection: Projection) -> None:
    """Statistics for the copies, so that the planner knows them from their first query."""
    for table in projection.tables:
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(SHADOW, table)))


def drop_retired(conn: psycopg.Connection[Any], projection: Projection) -> None:
    """Drop the tables a switch retired (after it, or left by a crash after it)."""
    for table in projection.tables:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(RETIRED, table)))
