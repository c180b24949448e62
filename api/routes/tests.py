"""The personality-test site's public API: list and search tests, open one, compute a result.

Lists (without ``q``) and details are read through the cache and served as the bytes cached:
the cache purge reactor drops them after the catalog applied a change, and a detail entry
carries the document's version, so a slow reader can never put an older one back.
"""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from adapters.cache import Cached
from adapters.search.port import MAX_QUERY_LENGTH
from adapters.search.text import tag_key
from api.conditional import names_etag
from api.deps import (
    CacheDep,
    CommandContext,
    ExecutorDep,
    MeaningDep,
    SearchDep,
    SettingsDep,
    command_context,
)
from api.reads import BIGINT_MAX, ReadsDep, caught_up
from api.schemas.tests import (
    ComputeAnswer,
    ComputeRequest,
    PublicTest,
    SearchInfo,
    SimilarTests,
    TestPage,
    render_page,
    render_test,
    summary_of_hit,
    summary_of_row,
)
from domain.commands.testdocument import TakeTest
from domain.errors import InvalidCommand, NotFound
from domain.testcontent import MAX_TAG
from projections.testcatalog.cache import cached_detail, cached_list, detail_key
from projections.testcatalog.queries import Place, get_public_test, list_public_tests
from projections.testembeddings.search import KEYWORD, RRF_K, SEMANTIC, Ranking

router = APIRouter(prefix="/api/tests", tags=["tests"])
READ_MODELS = ["test_catalog"]
MinPosition = Annotated[int | None, caught_up(*READ_MODELS)]
JSON = "application/json"
# A search pages by log position; the list by first publication and id (``Place``).
_SEARCH, _LIST, _RANK = "position:", "published:", "rank:"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def _public_command(request: Request, executor: ExecutorDep) -> CommandContext:
    # Visitors are anonymous: their takes are recorded under one actor, with the request's id.
    return await command_context(request, executor, "public", None)


PublicCommand = Annotated[CommandContext, Depends(_public_command)]


@router.get("", response_model=TestPage)
def list_published_tests(
    reads: ReadsDep,
    search: SearchDep,
    meaning: MeaningDep,
    cache: CacheDep,
    settings: SettingsDep,
    tag: Annotated[
        str | None,
        Query(min_length=1, max_length=MAX_TAG, description="Only tests with this tag (any case)."),
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=MAX_QUERY_LENGTH,
            description="Search title, description and tags; every word must match.",
        ),
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=100, description="`next_cursor` of the previous page.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    mode: Annotated[
        Literal["hybrid", "keyword", "semantic"] | None,
        Query(
            description="With `q`: `keyword` (every word must match, last changed first), "
            "`semantic` (by meaning) or `hybrid` (both, fused; the default where meaning "
            "search runs, else keywords, saying why in `search.note`)."
        ),
    ] = None,
) -> Response:
    """Published tests, newest first publication first; with `q`, matches (see `mode`).

    An edit never moves a test in the list, so paging through it while admins save neither
    skips nor repeats one. A hybrid or semantic search pages through its first 100 hits.
    """
    base_url = settings.public_base_url
    if q is not None and q.strip():
        ranking = None if mode == KEYWORD else meaning.search(q, mode=mode, keyword=search, tag=tag)
        if ranking is not None and ranking.method is not None:
            return _ranked_page(ranking, mode or "hybrid", cursor, limit, base_url)
        position = _search_after(cursor)
        hits = search.search(q, tag=tag, limit=limit, after=position)
        next_cursor = _encode(f"{_SEARCH}{hits[-1].position}") if len(hits) == limit else None
        info = SearchInfo(
            mode=mode or "hybrid",
            modes=[KEYWORD] if hits else [],
            note=ranking.note if ranking is not None else None,
        )
        page = render_page([summary_of_hit(hit, base_url) for hit in hits], next_cursor, info)
        return Response(page, media_type=JSON)
    after = _list_after(cursor)

    def load() -> bytes:
        rows = list_public_tests(reads.pool, tag=tag, after=after, limit=limit)
        next_cursor = _list_cursor(rows[-1]) if len(rows) == limit else None
        return render_page([summary_of_row(row, base_url) for row in rows], next_cursor)

    place = None if after is None else [_micros(after.published_at), str(after.test_id)]
    params = json.dumps([None if tag is None else tag_key(tag), place, limit])
    page = cached_list(cache, reads.pool, params, load, settings.test_cache_seconds)
    return Response(page, media_type=JSON)


@router.get(
    "/{test_id}",
    response_model=PublicTest,
    responses={304: {"description": "Not modified: `If-None-Match` names the current version."}},
)
def get_published_test(
    test_id: uuid.UUID,
    reads: ReadsDep,
    cache: CacheDep,
    settings: SettingsDep,
    min_position: MinPosition = None,
    if_none_match: Annotated[
        str | None, Header(description='An `ETag` seen before, such as `"3"`.')
    ] = None,
) -> Response:
    """A published test (no scoring), with its version as `ETag`."""

    def load() -> tuple[bytes, int] | None:
        row = get_public_test(reads.pool, test_id)
        return None if row is None else (render_test(row, settings.public_base_url), row["version"])

    entry: Cached | None
    if min_position:
        # The caller must see its write: read the catalog itself, and offer the cache what it
        # read (a put never lowers a version, so this cannot bring an old one back).
        loaded = load()
        entry = None if loaded is None else Cached(*loaded)
        if entry is not None:
            cache.put(detail_key(test_id), entry.value, entry.version, settings.test_cache_seconds)
    else:
        entry = cached_detail(cache, test_id, load, settings.test_cache_seconds)
    if entry is None:
        raise NotFound(f"test {test_id} not found")
    etag = f'"{entry.version}"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age=0, s-maxage={int(settings.test_cache_seconds)}",
    }
    if names_etag(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(entry.value, media_type=JSON, headers=headers)


@router.get("/{test_id}/similar", response_model=SimilarTests)
def list_similar_tests(
    test_id: uuid.UUID,
    reads: ReadsDep,
    meaning: MeaningDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
) -> SimilarTests:
    """The published tests nearest in meaning, nearest first; never the test itself.

    404 for a test that is not published; 409 where meaning search is not available.
    """
    if get_public_test(reads.pool, test_id) is None:
        raise NotFound(f"test {test_id} not found")
    ranking = meaning.similar(test_id, limit=limit)
    return SimilarTests(
        test_id=test_id,
        tests=[summary_of_hit(hit, settings.public_base_url) for hit in ranking.hits],
        method=ranking.method or "",
        model=ranking.model or "",
        note=ranking.note,
    )


@router.post("/{test_id}/compute", response_model=ComputeAnswer)
def compute_result(
    test_id: uuid.UUID, body: ComputeRequest, command: PublicCommand, settings: SettingsDep
) -> ComputeAnswer:
    """Score the answers: the MBTI type, its result and the per-axis sums (the take is recorded).

    Each axis goes to the pole with the higher sum; a tie goes to its first letter (E, S, T, J).
    """
    outcome = command.run(TakeTest(test_id, body.indexed()))
    return ComputeAnswer.from_outcome(outcome, settings.public_base_url)


def _ranked_page(
    ranking: Ranking, mode: str, cursor: str | None, limit: int, base_url: str
) -> Response:
    """One page of a ranking, by offset (``rank:<offset>`` cursors)."""
    offset = 0
    if cursor is not None:
        digits = _payload(cursor, _RANK)
        if not (digits.isascii() and digits.isdigit() and len(digits) < 6):
            raise _not_a_cursor()
        offset = int(digits)
    hits = ranking.hits[offset : offset + limit]
    more = offset + limit < len(ranking.hits)
    info = SearchInfo(
        mode=mode,
        modes=list(ranking.modes),
        method=ranking.method,
        model=ranking.model,
        rrf_k=None if mode == SEMANTIC else RRF_K,
        note=ranking.note,
    )
    next_cursor = _encode(f"{_RANK}{offset + limit}") if more else None
    page = render_page([summary_of_hit(hit, base_url) for hit in hits], next_cursor, info)
    return Response(page, media_type=JSON)


def _list_cursor(row: dict[str, Any]) -> str:
    return _encode(f"{_LIST}{_micros(row['published_at'])}:{row['test_id']}")


def _list_after(cursor: str | None) -> Place | None:
    if cursor is None:
        return None
    micros, _, test_id = _payload(cursor, _LIST).partition(":")
    try:
        if micros.isascii() and micros.isdigit():
            return Place(_EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(test_id))
    except (ValueError, OverflowError):  # not a UUID, or a time beyond any datetime
        pass
    raise _not_a_cursor()


def _search_after(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    digits = _payload(cursor, _SEARCH)
    if digits.isascii() and digits.isdigit() and int(digits) <= BIGINT_MAX:
        return int(digits)
    raise _not_a_cursor()


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _encode(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _payload(cursor: str, prefix: str) -> str:
    """What follows ``prefix`` in the decoded cursor; a cursor of another kind is refused."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:  # not base64, or not UTF-8
        raw = ""
    if not raw.startswith(prefix):
        raise _not_a_cursor()
    return raw.removeprefix(prefix)


def _not_a_cursor() -> InvalidCommand:
    return InvalidCommand("cursor is not a cursor this API returned", field="cursor")
