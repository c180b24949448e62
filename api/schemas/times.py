"""``Rfc3339Time``: a time as RFC 3339 text with its offset, and nothing else.

Pydantic's ``AwareDatetime`` also takes a number (``0.5``) as seconds since 1970: a query
parameter such as ``until=0.5`` would then filter by a time nobody meant. This type first
requires the text to be an RFC 3339 date-time (``2025-01-01T09:00:00Z``, ``…+09:00``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AwareDatetime, BeforeValidator

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


def _rfc3339_text(value: Any) -> Any:
    """Refuse anything but RFC 3339 date-time text (a number least of all)."""
    if isinstance(value, str) and _RFC3339.fullmatch(value.strip()):
        return value.strip()
    raise ValueError("must be an RFC 3339 time with its offset, such as 2025-01-01T09:00:00Z")


Rfc3339Time = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]
