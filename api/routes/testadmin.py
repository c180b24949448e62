"""Admins edit personality tests: create, list, read, save with If-Match, publish, stats.

Every answer that has a version carries it as ``ETag: "<version>"`` (``api.conditional``). A
whole-document save must send back the version it was made against as ``If-Match`` (the other
commands may), so two admins saving at once never overwrite each other silently: one wins, the
other gets 409. Images: ``api.routes.testimages``; what a change has reached:
``api.routes.teststatus``.
"""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.conditional import IfMatch, etag, expected_version, required_version
from api.deps import AdminPrincipal, Command, SettingsDep
from api.reads import Reads, ReadsDep, caught_up, position_cursor
from api.schemas.testadmin import (
    TestAdminPage,
    TestAdminSummary,
    TestAdminView,
    TestChanged,
    TestDocumentBody,
    TestStats,
)
from api.settings import Settings
from domain.commands.testdocument import (
    CreateTestDocument,
    DeleteTestDocument,
    PublishTestDocument,
    SaveTestDocument,
    UnpublishTestDocument,
)
from domain.errors import NotFound
from domain.mbti import TYPES
from domain.testcontent import MAX_TAG, DocumentLimits
from eventstore.records import Outcome
from projections.testcatalog.queries import get_test, list_tests
from projections.teststats.queries import get_test_stats

router = APIRouter(prefix="/api/admin/tests", tags=["test admin"])
READ_MODELS = ["test_catalog"]
MinPosition = Annotated[int | None, caught_up(*READ_MODELS)]
StatsPosition = Annotated[int | None, caught_up("test_stats")]


@router.post("", response_model=TestChanged, status_code=201)
def create_test(
    body: TestDocumentBody,
    _: AdminPrincipal,
    command: Command,
    settings: SettingsDep,
    response: Response,
) -> TestChanged:
    """Create an unpublished test; `Location` names it and `ETag` carries its version."""
    run = CreateTestDocument(uuid.uuid4(), body.sent(), _limits(settings))
    changed = _changed(command.run(run), response)
    response.headers["Location"] = f"{router.prefix}/{changed.test_id}"
    return changed


@router.get("", response_model=TestAdminPage)
def list_tests_for_admins(
    _: AdminPrincipal,
    reads: ReadsDep,
    tag: Annotated[str | None, Query(min_length=1, max_length=MAX_TAG)] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    min_position: MinPosition = None,
) -> TestAdminPage:
    """Every test not deleted, drafts included, last changed first."""
    rows = list_tests(reads.pool, tag=tag, after=position_cursor(cursor), limit=limit)
    next_cursor = str(rows[-1]["position"]) if len(rows) == limit else None
    return TestAdminPage(tests=[TestAdminSummary(**r) for r in rows], next_cursor=next_cursor)


@router.get("/{test_id}", response_model=TestAdminView)
def get_test_for_admins(
    test_id: uuid.UUID,
    _: AdminPrincipal,
    reads: ReadsDep,
    response: Response,
    min_position: MinPosition = None,
) -> TestAdminView:
    """The whole document (scoring included), its version as `ETag`, who saved it and when."""
    row = _catalog_row(reads, test_id)
    response.headers["ETag"] = etag(row["version"])
    return TestAdminView(**row)


@router.put("/{test_id}", response_model=TestChanged)
def save_test(
    test_id: uuid.UUID,
    body: TestDocumentBody,
    _: AdminPrincipal,
    command: Command,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> TestChanged:
    """Save the whole document over the version in `If-Match` (428 without; 409 if stale).

    A document equal to the saved one records nothing: same version, `position` null.
    """
    run = SaveTestDocument(test_id, required_version(if_match), body.sent(), _limits(settings))
    return _changed(command.run(run), response)


@router.post("/{test_id}/publish", response_model=TestChanged)
def publish_test(
    test_id: uuid.UUID,
    _: AdminPrincipal,
    command: Command,
    response: Response,
    if_match: IfMatch = None,
) -> TestChanged:
    """Show the test on the public site (already published: nothing recorded)."""
    return _moved(PublishTestDocument, test_id, if_match, command, response)


@router.post("/{test_id}/unpublish", response_model=TestChanged)
def unpublish_test(
    test_id: uuid.UUID,
    _: AdminPrincipal,
    command: Command,
    response: Response,
    if_match: IfMatch = None,
) -> TestChanged:
    """Take the test off the public site (not published: nothing recorded)."""
    return _moved(UnpublishTestDocument, test_id, if_match, command, response)


@router.delete("/{test_id}", response_model=TestChanged)
def delete_test(
    test_id: uuid.UUID,
    _: AdminPrincipal,
    command: Command,
    response: Response,
    if_match: IfMatch = None,
) -> TestChanged:
    """Delete the test: gone from the site and the search, kept in the history; then 404."""
    return _moved(DeleteTestDocument, test_id, if_match, command, response)


@router.get("/{test_id}/stats", response_model=TestStats)
def get_stats(
    test_id: uuid.UUID,
    _: AdminPrincipal,
    reads: ReadsDep,
    min_position: StatsPosition = None,
) -> TestStats:
    """How many computes the test had, in all and per MBTI type."""
    _catalog_row(reads, test_id)
    counts = get_test_stats(reads.pool, test_id)
    by_type = {mbti: counts.get(mbti, 0) for mbti in TYPES}
    return TestStats(test_id=test_id, takes=sum(by_type.values()), by_type=by_type)


def _catalog_row(reads: Reads, test_id: uuid.UUID) -> dict[str, Any]:
    """The test's catalog row (once projected), or NotFound for an unknown or deleted one."""
    row = reads.find_or_not_found(
        READ_MODELS, lambda: get_test(reads.pool, test_id), f"test {test_id}"
    )
    if row["deleted"]:
        raise NotFound(f"test {test_id} not found")
    return row


def _moved(
    transition: Any, test_id: uuid.UUID, if_match: str | None, command: Any, response: Response
) -> TestChanged:
    """Publish, unpublish or delete the test, against the version in ``If-Match`` if given."""
    return _changed(command.run(transition(test_id, expected_version(if_match))), response)


def _changed(outcome: Outcome[Any], response: Response) -> TestChanged:
    changed = TestChanged.from_outcome(outcome)
    response.headers["ETag"] = etag(changed.version)
    return changed


def _limits(settings: Settings) -> DocumentLimits:
    return DocumentLimits(
        max_title=settings.test_max_title,
        max_questions=settings.test_max_questions,
        max_document_bytes=settings.test_max_document_bytes,
    )
