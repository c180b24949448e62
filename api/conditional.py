"""Conditional requests: a version as ETag, If-Match on changes, If-None-Match on reads.

A test's version is its ``ETag``, ``"<version>"``. A change may name the version it was made
against in ``If-Match`` (a whole-document save must), compared strongly (RFC 9110 §13.1.1):
``"N"`` is version N; a weak ``W/"N"`` never matches, so it is answered as a stale version
(409 ``version_conflict`` naming the current one); ``*`` is whatever version exists (the change
goes through, or 404 when there is no test). Anything else is a 422 naming the header: a bare
``N`` (not an entity-tag: a client that drops the quotes would drop them elsewhere too) and a
list of tags (a change is made against one version, never several). ``If-None-Match`` (a list,
weak tags included, or ``*``) answers 304 when it names the current ``ETag`` (weakly, as reads do).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header
from fastapi.exceptions import RequestValidationError

from api.reads import BIGINT_MAX
from domain.errors import PreconditionRequired

IfMatch = Annotated[
    str | None,
    Header(
        description='The ETag of the version the change was made against, `"<version>"`, '
        "or `*` for whatever version exists; a weak `W/` tag never matches."
    ),
]
_IF_MATCH = re.compile(r'(W/)?"([0-9]{1,19})"')
# No test is ever at version 0 (versions start at 1): expecting it makes the command answer
# VersionConflict with the current version, which is how a weak tag must be answered.
NEVER_CURRENT = 0


def etag(version: int) -> str:
    """The ETag of a version: ``"<version>"``."""
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version ``If-Match`` expects: None without one or for ``*``; a weak tag never matches."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _IF_MATCH.fullmatch(if_match.strip())
    version = int(match[2]) if match else 0
    if not 1 <= version <= BIGINT_MAX:
        problem = 'must be one version as an ETag, "<version>", or * (not a bare number nor a list)'
        raise RequestValidationError(
            [{"type": "if_match", "loc": ("header", "If-Match"), "msg": problem}]
        )
    return NEVER_CURRENT if match and match[1] else version


def required_version(if_match: str | None) -> int | None:
    """The version ``If-Match`` expects (None for ``*``), which a whole-document save must send."""
    if if_match is None:
        raise PreconditionRequired(
            "a save needs 'If-Match: \"<version>\"': the ETag of the version it was made "
            "against, so that it never overwrites a save it has not seen (or '*' for any)"
        )
    return expected_version(if_match)


def names_etag(if_none_match: str | None, current: str) -> bool:
    """Whether ``If-None-Match`` (a list, weak tags included, or ``*``) names ``current``."""
    if if_none_match is None:
        return False
    tags = (tag.strip() for tag in if_none_match.split(","))
    return any(tag == "*" or tag.removeprefix("W/") == current for tag in tags)
