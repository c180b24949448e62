"""``PostgresSearchIndex``: the default search index, in table ``test_search`` of the event store.

What it does: every term of a query must occur in the title, description or tags, either
literally inside a word (any script: ``여행`` finds "여행 성향 테스트" and "해외여행", ``sonal``
finds "personality"), through a GIN index on the words' characters and character pairs; or,
for a term of ``TYPO_MIN_LENGTH`` characters or more, as a close match of a word
(``pg_trgm``'s word similarity ≥ ``WORD_SIMILARITY``, trigram index), so one typo in a longer
Latin word still matches ("persnality" → "personality") and a term also matches as a prefix.
Text is NFKC-normalised and case-folded on both sides (``adapters.search.text``).

What it does not: no stemming ("tests" does not find "test" unless as a prefix), no Korean
morphology (``여행을`` with its particle does not find ``여행``), no relevance ranking (hits
come newest first), no typo tolerance in short words. Trigram matching sees Hangul only in a
database whose LC_CTYPE is a UTF-8 locale: ``ensure`` warns when it is not (Korean terms then
match literally only, which is the part that matters).
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from adapters.search.port import SearchDocument, SearchHit, check_search, finds_nothing
from adapters.search.text import body, grams, query_terms, tag_key, term_keys, terms
from domain.errors import Unavailable

TYPO_MIN_LENGTH = 3
WORD_SIMILARITY = 0.6  # pg_trgm's default, set explicitly so a server's setting cannot change it

log = logging.getLogger(__name__)

_WRITE = """
    INSERT INTO test_search AS s (id, version, position, listed, title, description, tags,
        tag_keys, thumbnail, updated_at, body, grams)
    VALUES (%(id)s, %(version)s, %(position)s, %(listed)s, %(title)s, %(description)s,
        %(tags)s, %(tag_keys)s, %(thumbnail)s, %(updated_at)s, %(body)s, %(grams)s)
    ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, position = EXCLUDED.position,
        listed = EXCLUDED.listed, title = EXCLUDED.title, description = EXCLUDED.description,
        tags = EXCLUDED.tags, tag_keys = EXCLUDED.tag_keys, thumbnail = EXCLUDED.thumbnail,
        updated_at = EXCLUDED.updated_at, body = EXCLUDED.body, grams = EXCLUDED.grams
    WHERE s.version < EXCLUDED.version
"""


class PostgresSearchIndex:
    """Search over ``test_search`` through a pool of autocommit connections."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool
        self.hangul_trigrams = True

    def ensure(self) -> None:
        """Check that the migrated table is there and whether trigrams see Hangul."""
        with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                "SELECT to_regclass('test_search') IS NOT NULL AS migrated,"
                " EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') AS trgm"
            ).fetchone()
            if row is None or not (row["migrated"] and row["trgm"]):
                raise Unavailable("the search index is not migrated: run `chronicle migrate`")
            row = cur.execute("SELECT show_trgm('가나다') <> '{}' AS hangul").fetchone()
        self.hangul_trigrams = bool(row and row["hangul"])
        if not self.hangul_trigrams:
            log.warning(
                "the database's LC_CTYPE is not UTF-8: pg_trgm ignores Hangul, so Korean terms "
                "match literally only (create the database with LC_CTYPE 'C.UTF-8')"
            )

    def upsert(self, doc: SearchDocument) -> None:
        """Index ``doc`` unless the same or a newer version (or its tombstone) is there."""
        words = terms(" ".join((doc.title, doc.description, *doc.tags)))
        self._write(
            id=doc.id,
            version=doc.version,
            position=doc.position,
            listed=True,
            title=doc.title,
            description=doc.description,
            tags=list(doc.tags),
            tag_keys=sorted({tag_key(t) for t in doc.tags}),
            thumbnail=doc.thumbnail,
            updated_at=doc.updated_at,
            body=body(doc.title, doc.description, *doc.tags),
            grams=grams(words),
        )

    def remove(self, test_id: UUID, version: int) -> None:
        """Leave a tombstone at ``version`` unless the same or a newer version is there."""
        self._write(
            id=test_id,
            version=version,
            position=None,
            listed=False,
            title="",
            description="",
            tags=[],
            tag_keys=[],
            thumbnail=None,
            updated_at=None,
            body="",
            grams=[],
        )

    def search(
        self, q: str, *, tag: str | None = None, limit: int, after: int | None = None
    ) -> list[SearchHit]:
        """Listed documents matching every term of ``q`` (and the tag), newest first."""
        check_search(q, limit, after)
        if finds_nothing(q):
            return []
        where = ["listed"]
        params: dict[str, Any] = {"limit": limit}
        if tag is not None:
            where.append("tag_keys @> ARRAY[%(tag)s::text]")
            params["tag"] = tag_key(tag)
        if after is not None:
            where.append("position < %(after)s")
            params["after"] = after
        for i, term in enumerate(query_terms(q)):
            params[f"t{i}"], params[f"k{i}"] = term, term_keys(term)
            literal = f"(grams @> %(k{i})s::text[] AND strpos(body, %(t{i})s) > 0)"
            typo = f" OR body %%> %(t{i})s" if len(term) >= TYPO_MIN_LENGTH else ""
            where.append(f"({literal}{typo})")
        query = (
            "WITH hits AS MATERIALIZED (SELECT id, title, thumbnail, tags, updated_at, position"
            f" FROM test_search WHERE {' AND '.join(where)})"
            " SELECT * FROM hits ORDER BY position DESC LIMIT %(limit)s"
        )
        with self._pool.connection() as conn, conn.transaction():
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute(
                    "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
                    (str(WORD_SIMILARITY),),
                )
                rows = cur.execute(query, params, prepare=False).fetchall()
        return [
            SearchHit(
                id=r["id"],
                title=r["title"],
                thumbnail=r["thumbnail"],
                tags=tuple(r["tags"]),
                updated_at=r["updated_at"],
                position=r["position"],
            )
            for r in rows
        ]

    def clear(self) -> None:
        """Delete every row, tombstones included."""
        with self._pool.connection() as conn:
            conn.execute("TRUNCATE test_search")

    def _write(self, **row: Any) -> None:
        with self._pool.connection() as conn:
            conn.execute(_WRITE, row)
