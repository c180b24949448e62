"""Test images from the object store, by content-hash key, cacheable forever.

Only keys shaped like ``domain.images.image_key``'s (``images/<sha256>.<ext>``) are served:
the store also holds users' job uploads and results, which must never be readable here.
"""

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, Response

from api.conditional import names_etag
from api.deps import ObjectStoreDep
from api.openapi import error_responses
from domain.errors import NotFound
from domain.images import PREFIX, content_type_of

router = APIRouter(prefix="/assets", tags=["assets"])

# The key is the bytes' hash: whatever is cached under it can never change.
_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}


@router.get(
    "/{key:path}",
    response_class=Response,
    responses={
        **error_responses(422),  # an unprintable path, refused before any route runs
        200: {"content": {"image/*": {}}, "description": "The image's bytes."},
        304: {"description": "Not modified: `If-None-Match` names the image's hash."},
    },
)
async def get_asset(
    key: str,
    store: ObjectStoreDep,
    if_none_match: Annotated[str | None, Header(description="The `ETag` seen before.")] = None,
) -> Response:
    """A test image by its key (`images/<sha256>.<png|jpg|webp|gif>`), with its content type."""
    content_type = content_type_of(key)  # None for anything but images/<sha256>.<ext>
    if content_type is None:
        raise NotFound(f"no asset {key!r}")
    etag = f'"{key.removeprefix(PREFIX).partition(".")[0]}"'
    headers = {**_HEADERS, "ETag": etag}
    if names_etag(if_none_match, etag):
        if not await anyio.to_thread.run_sync(store.exists, key):
            raise NotFound(f"no asset {key!r}")
        return Response(status_code=304, headers=headers)
    data = await anyio.to_thread.run_sync(store.get, key)  # NotFound when missing
    return Response(data, media_type=content_type, headers=headers)
