"""Test images: uploaded by admins, stored under their content hash, attached by an event.

The bytes must be a PNG, JPEG, WebP or GIF image (told from the bytes, never from the name
or ``Content-Type``: 415 otherwise) of at most ``image_max_bytes`` (413). Nothing is stored
for a test that does not exist, nor for an image place it does not have; the same bytes
uploaded again store nothing new and, attached at the same place, record nothing.
"""

import uuid
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from starlette.datastructures import UploadFile as FormFile

from api.conditional import IfMatch, etag, expected_version
from api.deps import (
    AdminPrincipal,
    CommandContext,
    ExecutorDep,
    ObjectStoreDep,
    SavedDep,
    SettingsDep,
    command_context,
    existing_test,
)
from api.schemas.testadmin import ImageAttached, Mbti
from domain.commands.testdocument import UploadImage
from domain.errors import InvalidCommand, TooLarge
from domain.testcontent import MAX_QUESTIONS, image_target

router = APIRouter(prefix="/api/admin/tests", tags=["test admin"])
IMAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "The image is larger than `image_max_bytes`."},
    415: {"description": "The bytes are not a PNG, JPEG, WebP or GIF image."},
}


async def _upload_command(
    request: Request, principal: AdminPrincipal, executor: ExecutorDep
) -> CommandContext:
    # FastAPI has consumed the form before this runs, so no Idempotency-Key fingerprint can be
    # taken; none is needed: the same bytes make the same key, and attaching it again is a no-op.
    return await command_context(request, executor, principal.actor, None)


UploadCommand = Annotated[CommandContext, Depends(_upload_command)]


@router.post("/{test_id}/images", response_model=ImageAttached, responses=IMAGE_ERRORS)
async def upload_image(
    test_id: uuid.UUID,
    file: Annotated[UploadFile, File(description="A PNG, JPEG, WebP or GIF image.")],
    command: UploadCommand,
    saved: SavedDep,
    store: ObjectStoreDep,
    settings: SettingsDep,
    response: Response,
    question: Annotated[
        int | None,
        Form(ge=0, lt=MAX_QUESTIONS, description="The question's index; none: the thumbnail."),
    ] = None,
    if_match: IfMatch = None,
) -> ImageAttached:
    """Store the image under its content hash and make it the thumbnail or a question's image."""
    target = image_target(question=question)
    # A test that does not exist is told before its body is read.
    await anyio.to_thread.run_sync(existing_test, saved, test_id)
    data = await _read_file(file, settings.image_max_bytes)
    upload = UploadImage(test_id, target, data, store, expected_version(if_match))
    return await _attach(command, upload, settings.public_base_url, response)


@router.put(
    "/{test_id}/results/{mbti}/image",
    response_model=ImageAttached,
    responses=IMAGE_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The image's bytes, or a multipart form with the image as `file`.",
            "content": {
                "image/*": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def put_result_image(
    test_id: uuid.UUID,
    mbti: Mbti,
    request: Request,
    command: UploadCommand,
    saved: SavedDep,
    store: ObjectStoreDep,
    settings: SettingsDep,
    response: Response,
    if_match: IfMatch = None,
) -> ImageAttached:
    """Store the image under its content hash and make it the image of one type's result."""
    await anyio.to_thread.run_sync(existing_test, saved, test_id)
    limit = settings.image_max_bytes
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=10) as form:
            file = form.get("file")
            if not isinstance(file, FormFile):
                raise InvalidCommand("the multipart form has no `file` part", field="file")
            data = await _read_file(file, limit)
    else:
        data = await _read_body(request, limit)
    target = image_target(mbti=mbti)
    upload = UploadImage(test_id, target, data, store, expected_version(if_match))
    return await _attach(command, upload, settings.public_base_url, response)


async def _attach(
    command: CommandContext, upload: UploadImage, base_url: str, response: Response
) -> ImageAttached:
    """Store the image (once per content) and attach its key: off the event loop."""
    outcome = await anyio.to_thread.run_sync(command.run, upload)
    attached = ImageAttached.from_outcome(outcome, base_url)
    response.headers["ETag"] = etag(attached.version)
    return attached


async def _read_file(file: UploadFile | FormFile, limit: int) -> bytes:
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    return data


async def _read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused as soon as it grows past ``limit`` (whatever Content-Length says)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise _too_large(limit)
    return bytes(data)


def _too_large(limit: int) -> TooLarge:
    return TooLarge(f"the image is larger than the limit of {limit:,} bytes", field="file")
