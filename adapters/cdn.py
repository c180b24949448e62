"""CDN purge (the Cache API replacement): the ``CdnPurger`` port and its HTTP adapter.

``HttpCdnPurger`` posts the URLs to purge as ``{"files": [...]}``, the shape of Cloudflare's
``purge_cache`` API (``CHRONICLE_CDN_PURGE_URL``, with ``Authorization: Bearer`` when
``CHRONICLE_CDN_PURGE_TOKEN`` is set). Errors, as the reactor runner reads them:

    Unavailable      the endpoint cannot be reached, timed out, or answered 429 or 5xx:
                     no fault of the event, so the reactor pauses and tries it again
    CdnPurgeFailed   any other non-2xx answer (a bad token, a refused URL): retried with
                     backoff, then the event is parked as a dead letter for an admin
"""

from __future__ import annotations

from typing import Protocol

import httpx

from domain.errors import Unavailable

_ERROR_TEXT = 300  # characters of an error answer's body kept in the message


class CdnPurger(Protocol):
    """Something that drops public URLs from a CDN's cache."""

    def purge(self, urls: list[str]) -> None:
        """Purge ``urls``; raise if the CDN did not accept it."""
        ...


class CdnPurgeFailed(Exception):
    """The purge endpoint refused the request (a non-2xx answer that retrying will not fix)."""


class HttpCdnPurger:
    """Purges URLs by POSTing ``{"files": urls}`` to a purge endpoint."""

    def __init__(self, url: str, token: str | None = None, timeout_seconds: float = 5) -> None:
        self._url = url
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._timeout = timeout_seconds
        # Named without credentials (user info, a query string) for messages and logs.
        self._where = str(httpx.URL(url).copy_with(userinfo=b"", query=None, fragment=None))

    def purge(self, urls: list[str]) -> None:
        """POST the URLs; ``Unavailable`` on an outage, ``CdnPurgeFailed`` on a refusal."""
        if not urls:
            return
        try:
            answer = httpx.post(
                self._url, json={"files": urls}, headers=self._headers, timeout=self._timeout
            )
        except httpx.HTTPError as exc:  # connection refused, timeout, broken answer
            raise Unavailable(f"the CDN purge endpoint {self._where} failed: {exc}") from exc
        if answer.is_success:
            return
        detail = f"{answer.status_code}: {answer.text[:_ERROR_TEXT]}"
        if answer.status_code == 429 or answer.status_code >= 500:
            raise Unavailable(f"the CDN purge endpoint {self._where} answered {detail}")
        raise CdnPurgeFailed(f"the CDN purge endpoint {self._where} refused the purge: {detail}")
