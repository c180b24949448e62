"""The local object store through this API: uploads and downloads on signed URLs.

With an S3 bucket configured these routes answer 404: presigned URLs then point at the bucket.
"""

import re
import uuid
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from adapters.storage import LocalObjectStore
from api.deps import ObjectStoreDep, SavedDep, SettingsDep
from api.errors import error_body
from api.reads import BIGINT_MAX
from api.schemas.storage import StoredObject, StoredPartView
from domain.base import Aggregates
from domain.errors import Forbidden, IllegalTransition, NotFound
from domain.job import Job
from domain.jobstatus import JobStatus
from domain.uploadsession import MAX_PARTS

router = APIRouter(prefix="/storage", tags=["storage"])

# Stored objects are served from the API's origin: never sniffed, never run as a page.
_DOWNLOAD_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# The shape of domain.job.upload_key: an item a user uploads to one of their jobs.
_UPLOAD_KEY = re.compile(rf"uploads/(?P<user_id>{_UUID})/(?P<job_id>{_UUID})/[0-9]+")


async def get_local_store(store: ObjectStoreDep) -> LocalObjectStore:
    if not isinstance(store, LocalObjectStore):
        raise NotFound(
            "uploads go directly to the S3 store: its presigned URLs point at the bucket, "
            "not at this API"
        )
    return store


LocalStore = Annotated[LocalObjectStore, Depends(get_local_store)]
Expires = Annotated[
    int, Query(le=BIGINT_MAX, description="Unix time the URL stops working, as signed.")
]
Signature = Annotated[str, Query(description="The URL's signature, as issued.")]


@router.put(
    "/upload/{key:path}",
    response_model=StoredObject,
    responses={413: {"description": "The body is larger than the upload limit."}},
)
async def upload(
    key: str,
    request: Request,
    saved: SavedDep,
    settings: SettingsDep,
    store: LocalStore,
    expires: Expires,
    content_type: Annotated[str, Query(description="The signed type; send it as Content-Type.")],
    signature: Signature,
) -> StoredObject | JSONResponse:
    """Store the body under the key, through a URL the API signed (a presigned PUT)."""
    store.verify_upload(key, expires, content_type, signature)
    if request.headers.get("content-type") != content_type:
        raise Forbidden(f"the upload URL for {key!r} requires 'Content-Type: {content_type}'")
    await anyio.to_thread.run_sync(_require_job_awaiting_upload, saved, key)
    limit = settings.upload_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:  # stop reading: a missing or false Content-Length is no bypass
            return _too_large(limit)
    await anyio.to_thread.run_sync(store.put, key, bytes(body), content_type)
    return StoredObject(key=key, size=len(body))


@router.put(
    "/parts/{upload_id}/{part_number}",
    response_model=StoredPartView,
    responses={413: {"description": "The part is larger than the upload limit."}},
)
async def upload_part(
    upload_id: str,
    part_number: Annotated[int, Path(ge=1, le=MAX_PARTS)],
    request: Request,
    settings: SettingsDep,
    store: LocalStore,
    key: Annotated[str, Query(description="The object the part belongs to, as signed.")],
    expires: Expires,
    signature: Signature,
    response: Response,
) -> StoredPartView | JSONResponse:
    """Store one part of an upload session's file, through a URL the API signed (S3's
    presigned `upload_part`); the answer's `ETag` header names the part, as S3's does. Once
    the session is completed, aborted or expired the URL answers 404."""
    store.verify_part_upload(key, upload_id, part_number, expires, signature)
    limit = settings.upload_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return _too_large(limit)
    part = await anyio.to_thread.run_sync(
        store.write_part, key, upload_id, part_number, [bytes(body)]
    )
    response.headers["ETag"] = part.etag
    return StoredPartView(key=key, part_number=part_number, size=part.size, etag=part.etag)


@router.get(
    "/objects/{key:path}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download(key: str, store: LocalStore, expires: Expires, signature: Signature) -> Response:
    """The object's bytes with its stored content type, through a URL the API signed."""
    store.verify_download(key, expires, signature)
    data = store.get(key)
    headers = {"Content-Type": store.content_type(key), **_DOWNLOAD_HEADERS}
    return Response(data, headers=headers)


def _require_job_awaiting_upload(saved: Aggregates, key: str) -> None:
    """Refuse an item's upload once its job has moved past ``created``: its URL stops working.

    (S3 cannot be told so: its presigned URLs live until they expire.)
    """
    match = _UPLOAD_KEY.fullmatch(key)
    if match is None:
        return  # not an item of a job (a worker's result)
    job = saved.find(Job, uuid.UUID(match["job_id"]))
    if job is None or str(job.user_id) != match["user_id"]:
        raise NotFound(f"no job awaits the upload {key!r}")
    if job.status != JobStatus.CREATED:
        raise IllegalTransition(f"job {job.id} is {str(job.status)!r}; uploads need 'created'")


def _too_large(limit: int) -> JSONResponse:
    message = f"the upload is larger than the limit of {limit} bytes"
    return JSONResponse(error_body("payload_too_large", message), 413)
