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

from api.bootstrap import Services
from api.deps import AdminPrincipal, CommandContext, ServicesDep, command_context
from api.routes.testadmin import IfMatch, etag, existing_test, expected_version
from api.schemas.testadmin import ImageAttached, Mbti
from domain.commands.testdocument import AttachImage
from domain.errors import InvalidCommand, TooLarge, UnsupportedImage
from domain.images import accepted, image_key, sniff
from domain.testcontent import MAX_QUESTIONS, check_image, image_target

router = APIRouter(prefix="/api/admin/tests", tags=["test admin"])
IMAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "The image is larger than `image_max_bytes`."},
    415: {"description": "The bytes are not a PNG, JPEG, WebP or GIF image."},
}


async def _upload_command(request: Request, principal: AdminPrincipal) -> CommandContext:
    # FastAPI has consumed the form before this runs, so no Idempotency-Key fingerprint can be
    # taken; none is needed: the same bytes make the same key, and attaching it again is a no-op.
    return await command_context(request, principal.actor, None)


UploadCommand = Annotated[CommandContext, Depends(_upload_command)]


@router.post("/{test_id}/images", response_model=ImageAttached, responses=IMAGE_ERRORS)
async def upload_image(
    test_id: uuid.UUID,
    file: Annotated[UploadFile, File(description="A PNG, JPEG, WebP or GIF image.")],
    command: UploadCommand,
    services: ServicesDep,
    response: Response,
    question: Annotated[
        int | None,
        Form(ge=0, lt=MAX_QUESTIONS, description="The question's index; none: the thumbnail."),
    ] = None,
    if_match: IfMatch = None,
) -> ImageAttached:
    """Store the image under its content hash and make it the thumbnail or a question's image."""
    target = image_target(question=question)
    await anyio.to_thread.run_sync(existing_test, services, test_id)
    data = await _read_file(file, services.settings.image_max_bytes)
    return await _attach(services, command, response, test_id, target, data, if_match)


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
    services: ServicesDep,
    response: Response,
    if_match: IfMatch = None,
) -> ImageAttached:
    """Store the image under its content hash and make it the image of one type's result."""
    await anyio.to_thread.run_sync(existing_test, services, test_id)
    limit = services.settings.image_max_bytes
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
    return await _attach(services, command, response, test_id, target, data, if_match)


async def _attach(
    services: Services,
    command: CommandContext,
    response: Response,
    test_id: uuid.UUID,
    target: str,
    data: bytes,
    if_match: str | None,
) -> ImageAttached:
    """Store ``data`` (once per content) and attach its key at ``target``."""
    version = expected_version(if_match)
    attached: ImageAttached = await anyio.to_thread.run_sync(
        _store_and_attach, services, command, test_id, target, data, version
    )
    response.headers["ETag"] = etag(attached.version)
    return attached


def _store_and_attach(
    services: Services,
    command: CommandContext,
    test_id: uuid.UUID,
    target: str,
    data: bytes,
    version: int | None,
) -> ImageAttached:
    kind = sniff(data)
    if kind is None:
        raise UnsupportedImage(
            f"the upload is not an image of an accepted type ({accepted()}); the type is "
            "told from the bytes, not from the file name or Content-Type"
        )
    key = image_key(data, kind.extension)
    # The place must exist before anything is stored (the command checks it again).
    check_image(existing_test(services, test_id).document, target, key)
    store = services.object_store
    if not store.exists(key):  # the same bytes were stored before: nothing new
        store.put(key, data, kind.content_type)
    run = AttachImage(test_id, target, key, version)
    outcome = command.run(services, run, present=ImageAttached.present)
    url = f"{services.settings.public_base_url}/assets/{key}"
    return ImageAttached(
        **outcome.result, target=target, key=key, url=url, position=outcome.position
    )


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
