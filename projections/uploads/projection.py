"""``upload_sessions``: one row per session, its state and deadline (parts stay in its events)."""

from typing import Any

from psycopg import Cursor

from domain.uploadsession import UploadSession, UploadState, object_key, part_count

INSERT_SESSION = """
    INSERT INTO upload_sessions (session_id, user_id, state, object_key, size, content_type,
        part_count, opened_at, expires_at, updated_at, version)
    VALUES (%s, %s, 'open', %s, %s, %s, %s, %s, %s, %s, %s)
"""
TOUCH = "UPDATE upload_sessions SET updated_at = %s, version = %s WHERE session_id = %s"
END = """
    UPDATE upload_sessions SET state = %s, reason = %s, ended_at = %s, updated_at = %s,
        version = %s
    WHERE session_id = %s
"""
_ENDED = {
    UploadSession.Completed: UploadState.COMPLETED,
    UploadSession.Rejected: UploadState.REJECTED,
    UploadSession.Aborted: UploadState.ABORTED,
    UploadSession.Expired: UploadState.EXPIRED,
}


class UploadSessionsProjection:
    """Keeps upload_sessions equal to the fold of the UploadSession events."""

    name = "upload_sessions"
    tables = ("upload_sessions",)
    handles = (UploadSession.Event,)

    def project(self, cur: Cursor[Any], position: int, event: Any) -> None:
        session_id, at, version = event.originator_id, event.timestamp, event.originator_version
        if isinstance(event, UploadSession.Created):
            cur.execute(
                INSERT_SESSION,
                (
                    session_id,
                    event.user_id,
                    object_key(event.user_id, session_id),
                    event.size,
                    event.content_type,
                    part_count(event.size, event.part_size),
                    at,
                    event.expires_at,
                    at,
                    version,
                ),
            )
        elif type(event) in _ENDED:
            reason = getattr(event, "reason", None)
            cur.execute(END, (_ENDED[type(event)], reason, at, at, version, session_id))
        else:
            cur.execute(TOUCH, (at, version, session_id))
