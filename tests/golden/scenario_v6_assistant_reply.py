"""The scenario that wrote events_v6_assistant_reply.json: an assistant room, its replies, and
a file attached to a message.

It was run once, on the working tree that wired the assistant into rooms, with
``PYTHONPATH=<checkout> python scenario_v6_assistant_reply.py <source>
events_v6_assistant_reply.json`` on the library's in-memory store. Never run it again over the
fixture: it is what this code stored, and later code must load it as it is.
"""

import sys
from datetime import UTC, datetime
from uuid import UUID

from domain.chatroom import ChatRoom
from domain.commands.chatroom import attachment_of
from domain.uploadsession import UploadSession
from tests.golden.fixture import write

ROOM = UUID("00000000-0000-4000-8000-0000000000f1")
OWNER = UUID("00000000-0000-4000-8000-0000000000f2")
UPLOAD = UUID("00000000-0000-4000-8000-0000000000f3")
MIB = 1024 * 1024
AT = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
METADATA = {"actor": "golden", "correlation_id": "corr-6a", "causation_id": "cause-6a"}


def scenario() -> list:
    room = ChatRoom.create(ROOM, "도우미와 함께", True, OWNER, 30, assistant=True)
    asked = room.post(OWNER, "c-1", "여행 성격 테스트를 추천해 줘", AT)
    room.answer(asked, "‘해외 휴가 스타일 진단’을 해 보세요.", "complete")
    broken = room.post(OWNER, "c-2", "@assistant and in English?", AT)
    room.answer(broken, "Try the", "interrupted", "The reply was interrupted.")
    upload = UploadSession.open(
        UPLOAD,
        OWNER,
        size=MIB,
        content_type="image/png",
        sha256="cd" * 32,
        part_size=5 * MIB,
        max_size=1024 * MIB,
        storage_upload_id="upload-f3",
        expires_at=datetime(2026, 12, 6, 3, 0, tzinfo=UTC),
    )
    upload.record_part(1, MIB, '"etag-1"')
    upload.complete()
    photo = room.post(OWNER, "c-3", "이 사진 어때?", AT, attachment_of(upload))
    upload.attach_to_message(ROOM, photo)
    return [room, upload]


def main(source: str, path: str) -> None:
    write(scenario, METADATA, source, path)


if __name__ == "__main__":
    main(*sys.argv[1:])
