"""Conditional requests: a version as ETag, If-Match on changes, If-None-Match on reads.

A test's version is its ``ETag``, ``"<version>"``. A change may name the version it was made
against in ``If-Match`` (a whole-document save must): ``"N"``, ``W/"N"`` or a bare ``N`` is
version N; anything else is a 422 naming the header. ``If-None-Match`` (a list, weak tags
included, or ``*``) answers 304 when it names the current ``ETag``.
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
    Header(description='The ETag of the version the change was made against: `"<version>"`.'),
]
_IF_MATCH = re.compile(r'(?:W/)?"([0-9]{1,19})"|([0-9]{1,19})')


def etag(version: int) -> str:
    """The ETag of a version: ``"<version>"``."""
    return f'"{version}"'


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


def required_version(if_match: str | None) -> int:
    """The version of ``If-Match``, which a whole-document save must send."""
    version = expected_version(if_match)
    if version is None:
        raise PreconditionRequired(
            "a save needs 'If-Match: \"<version>\"': the ETag of the version it was made "
            "against, so that it never overwrites a save it has not seen"
        )
    return version


def names_etag(if_none_match: str | None, current: str) -> bool:
    """Whether ``If-None-Match`` (a list, weak tags included, or ``*``) names ``current``."""
    if if_none_match is None:
        return False
    tags = (tag.strip() for tag in if_none_match.split(","))
    return any(tag == "*" or tag.removeprefix("W/") == current for tag in tags)
