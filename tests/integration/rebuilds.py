"""What rebuild tests compare: a read model's rows, and the same read model projected afresh."""

from typing import Any

import psycopg
from psycopg import sql

from projections.engine.runner import Projection, apply

FRESH = "chronicle_test_fresh"


def rows(dsn: str, table: str, schema: str = "public") -> list[tuple[Any, ...]]:
    """Every row of ``schema.table`` but its serial ``id`` (ids are not part of a fold), sorted."""
    with psycopg.connect(dsn) as conn:
        columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'public' AND table_name = %s AND column_name <> 'id' "
                "ORDER BY ordinal_position",
                (table,),
            )
        ]
        query = sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(schema, table)
        )
        return sorted(conn.execute(query).fetchall(), key=repr)


def fresh_rows(dsn: str, event_store: Any, projection: Projection) -> dict[str, list[Any]]:
    """Each of ``projection``'s tables as projecting the whole log once, from scratch, makes it."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {FRESH} CASCADE")
        conn.execute(f"CREATE SCHEMA {FRESH}")
        for table in projection.tables:
            conn.execute(
                sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                    sql.Identifier(FRESH, table), sql.Identifier("public", table)
                )
            )
        conn.execute(f"SET search_path = {FRESH}, public")
        notifications = event_store.recorder.select_notifications(start=1, limit=10**9)
        with conn.transaction(), conn.cursor() as cur:
            apply(cur, event_store, projection, notifications)
    try:
        return {table: rows(dsn, table, FRESH) for table in projection.tables}
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {FRESH} CASCADE")


def schemas_left(dsn: str) -> dict[str, int]:
    """How many tables the rebuild's own schemas still hold."""
    with psycopg.connect(dsn) as conn:
        return dict(
            conn.execute(
                "SELECT schemaname, count(*) FROM pg_tables "
                "WHERE schemaname IN ('chronicle_rebuild', 'chronicle_retired') "
                "AND tablename <> 'progress' GROUP BY schemaname"
            ).fetchall()
        )


def index_names(dsn: str, tables: tuple[str, ...]) -> set[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return set(
            conn.execute(
                "SELECT tablename, indexname FROM pg_indexes "
                "WHERE schemaname = 'public' AND tablename = ANY(%s)",
                (list(tables),),
            ).fetchall()
        )
