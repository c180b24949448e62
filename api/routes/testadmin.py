"""Admins edit personality tests: create, list, read, save with If-Match, publish, stats.

Every answer that has a version carries it as ``ETag: "<version>"``. A whole-document save
must send back the version it was made against as ``If-Match`` (the other commands may), so
two admins saving at once never overwrite each other silently: one wins, the other gets 409.
Images: ``api.routes.testimages``; what a change has reached: ``api.routes.teststatus``.
"""

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.exceptions import RequestValidationError

from api.bootstrap import Services
from api.deps import (
    BIGINT_MAX,
    AdminPrincipal,
    Command,
    ServicesDep,
    caught_up,
    find_or_not_found,
    read_aggregate,
)
from api.schemas.testadmin import (
    TestAdminPage,
    TestAdminSummary,
    TestAdminView,
    TestChanged,
    TestDocumentBody,
    TestStats,
)
from domain.commands.testdocument import (
    CreateTestDocument,
    DeleteTestDocument,
    PublishTestDocument,
    SaveTestDocument,
    UnpublishTestDocument,
)
from domain.errors import InvalidCommand, NotFound, PreconditionRequired
from domain.mbti import TYPES
from domain.testcontent import MAX_TAG, DocumentLimits
from domain.testdocument import TestDocument
from eventstore.executor import Outcome
from projections.catalog import get_test, get_test_stats, list_tests

router = APIRouter(prefix="/api/admin/tests", tags=["test admin"])
READ_MODELS = ["test_catalog"]
MinPosition = Annotated[int | None, caught_up(*READ_MODELS)]
StatsPosition = Annotated[int | None, caught_up("test_stats")]
IfMatch = Annotated[
    str | None,
    Header(description='The ETag of the version the change was made against: `"<version>"`.'),
]
_IF_MATCH = re.compile(r'(?:W/)?"([0-9]{1,19})"|([0-9]{1,19})')


@router.post("", response_model=TestChanged, status_code=201)
def create_test(
    body: TestDocumentBody,
    _: AdminPrincipal,
    command: Command,
    services: ServicesDep,
    response: Response,
) -> TestChanged:
    """Create an unpublished test; `Location` names it and `ETag` carries its version."""
    run = CreateTestDocument(uuid.uuid4(), body.sent(), _limits(services))
    changed = _changed(command.run(services, run, present=TestChanged.present), response)
    response.headers["Location"] = f"{router.prefix}/{changed.test_id}"
    return changed


@router.get("", response_model=TestAdminPage)
def list_tests_for_admins(
    _: AdminPrincipal,
    services: ServicesDep,
    tag: Annotated[str | None, Query(min_length=1, max_length=MAX_TAG)] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    min_position: MinPosition = None,
) -> TestAdminPage:
    """Every test not deleted, drafts included, last changed first."""
    rows = list_tests(services.reads, public=False, tag=tag, after=_after(cursor), limit=limit)
    next_cursor = str(rows[-1]["position"]) if len(rows) == limit else None
    return TestAdminPage(tests=[TestAdminSummary(**r) for r in rows], next_cursor=next_cursor)


@router.get("/{test_id}", response_model=TestAdminView)
def get_test_for_admins(
    test_id: uuid.UUID,
    _: AdminPrincipal,
    services: ServicesDep,
    response: Response,
    min_position: MinPosition = None,
) -> TestAdminView:
    """The whole document (scoring included), its version as `ETag`, who saved it and when."""
    row = _catalog_row(services, test_id)
    response.headers["ETag"] = etag(row["version"])
    return TestAdminView(**row)


@router.put("/{test_id}", response_model=TestChanged)
def save_test(
    test_id: uuid.UUID,
    body: TestDocumentBody,
    _: AdminPrincipal,
    command: Command,
    services: ServicesDep,
    response: Response,
    if_match: IfMatch = None,
) -> TestChanged:
    """Save the whole document over the version in `If-Match` (428 without; 409 if stale).

    A document equal to the saved one records nothing: same version, `position` null.
    """
    run = SaveTestDocument(test_id, _required(if_match), body.sent(), _limits(services))
    return _changed(command.run(services, run, present=TestChanged.present), response)


@router.post("/{test_id}/publish", response_model=TestChanged)
def publish_test(
    test_id: uuid.UUID,
    _: AdminPrincipal,
    command: Command,
    services: ServicesDep,
    response: Response,
    if_match: IfMatch = None,
) -> TestChanged:
    """Show the test on the public site (already published: nothing recorded)."""
    run = PublishTestDocument(test_id, expected_version(if_match))
    return _changed(command.run(services, run, present=TestChanged.present), response)


@router.post("/{test_id}/unpublish", response_model=TestChanged)
def unpublish_test(
    test_id: uuid.UUID,
    _: AdminPrincipal,
    command: Command,
    services: ServicesDep,
    response: Response,
    if_match: IfMatch = None,
) -> TestChanged:
    """Take the test off the public site (not published: nothing recorded)."""
    run = UnpublishTestDocument(test_id, expected_version(if_match))
    return _changed(command.run(services, run, present=TestChanged.present), response)


@router.delete("/{test_id}", response_model=TestChanged)
def delete_test(
    test_id: uuid.UUID,
    _: AdminPrincipal,
    command: Command,
    services: ServicesDep,
    response: Response,
    if_match: IfMatch = None,
) -> TestChanged:
    """Delete the test: gone from the site and the search, kept in the history; then 404."""
    run = DeleteTestDocument(test_id, expected_version(if_match))
    return _changed(command.run(services, run, present=TestChanged.present), response)


@router.get("/{test_id}/stats", response_model=TestStats)
def get_stats(
    test_id: uuid.UUID,
    _: AdminPrincipal,
    services: ServicesDep,
    min_position: StatsPosition = None,
) -> TestStats:
    """How many computes the test had, in all and per MBTI type."""
    _catalog_row(services, test_id)
    counts = get_test_stats(services.reads, test_id)
    by_type = {mbti: counts.get(mbti, 0) for mbti in TYPES}
    return TestStats(test_id=test_id, takes=sum(by_type.values()), by_type=by_type)


def _catalog_row(services: Services, test_id: uuid.UUID) -> dict[str, Any]:
    """The test's catalog row (once projected), or NotFound for an unknown or deleted one."""
    row = find_or_not_found(
        services, READ_MODELS, lambda: get_test(services.reads, test_id), f"test {test_id}"
    )
    if row["deleted"]:
        raise NotFound(f"test {test_id} not found")
    return row


def _changed(outcome: Outcome[Any], response: Response) -> TestChanged:
    response.headers["ETag"] = etag(outcome.result["version"])
    return TestChanged(**outcome.result, position=outcome.position)


def _limits(services: Services) -> DocumentLimits:
    settings = services.settings
    return DocumentLimits(
        max_title=settings.test_max_title,
        max_questions=settings.test_max_questions,
        max_document_bytes=settings.test_max_document_bytes,
    )


def existing_test(
    services: Services, test_id: uuid.UUID, deleted_too: bool = False
) -> TestDocument:
    """The test as last saved (not deleted, unless ``deleted_too``), else NotFound."""
    test = read_aggregate(services, TestDocument, test_id)
    if test is None or (test.deleted and not deleted_too):
        raise NotFound(f"test {test_id} not found")
    return test


def etag(version: int) -> str:
    """The ETag of a test's version: ``"<version>"``."""
    return f'"{version}"'


def _required(if_match: str | None) -> int:
    """The version of ``If-Match``, which a save must send."""
    version = expected_version(if_match)
    if version is None:
        raise PreconditionRequired(
            "a save needs 'If-Match: \"<version>\"': the ETag of the version it was made "
            "against, so that it never overwrites a save it has not seen"
        )
    return version


def expected_version(if_match: str | None) -> int | None:
    """The version of ``If-Match`` (``"N"``, ``W/"N"`` or ``N``), or None without one."""
    if if_match is None:
        return None
    match = _IF_MATCH.fullmatch(if_match.strip())
    version = int(match[1] or match[2]) if match else 0
    if not 1 <= version <= BIGINT_MAX:
        problem = 'must be one version as an ETag, "<version>" (not * nor a list)'
        raise RequestValidationError(
            [{"type": "if_match", "loc": ("header", "If-Match"), "msg": problem}]
        )
    return version


def _after(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or not 0 < int(cursor) <= BIGINT_MAX:
        raise InvalidCommand("cursor is not a cursor this API returned", field="cursor")
    return int(cursor)
