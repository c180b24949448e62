"""Upload sessions over HTTP (uvicorn), on the local store and on moto's S3 server: a client
that drops mid-file resumes with the missing parts only; wrong files, strangers and bad input
get clear 4xx answers."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import on_s3
from tests.e2e.flows import sign_up
from tests.unit.uploads import PART, file_of, parts_of, sha256_of

DATA = file_of(2 * PART + 99)


@pytest.fixture(params=["local", "s3"])
def settings(request, settings, moto_endpoint):
    if request.param == "s3":
        return on_s3(settings, moto_endpoint)
    return settings


@pytest.fixture
def auth(http):
    return sign_up(http)[1]


def open_upload(http, auth, data=DATA, **overrides):
    body = {
        "size": len(data),
        "content_type": "video/mp4",
        "sha256": sha256_of(data),
        "part_size": PART,
        **overrides,
    }
    return http.post("/uploads", headers=auth, json=body)


def put_parts(session, numbers, data=DATA):
    parts = parts_of(data, session["part_size"])
    urls = {u["part_number"]: u["url"] for u in session["part_uploads"]}
    for n in numbers:
        response = httpx.put(urls[n], content=parts[n - 1], timeout=30)
        assert response.status_code == 200, response.text
        assert response.headers["ETag"]


def test_a_dropped_upload_resumes_with_the_missing_parts_and_completes(http, auth):
    opened = open_upload(http, auth)
    session = opened.json()
    put_parts(session, [1, 3])

    resumed = http.get(f"/uploads/{session['session_id']}", headers=auth).json()
    put_parts(resumed, resumed["missing"])
    done = http.post(f"/uploads/{session['session_id']}/complete", headers=auth)

    assert opened.status_code == 201
    assert [u["part_number"] for u in session["part_uploads"]] == [1, 2, 3]
    assert (resumed["missing"], resumed["parts_received"]) == ([2], 2)
    assert resumed["bytes_received"] == PART + 99
    assert [u["part_number"] for u in resumed["part_uploads"]] == [2]
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["state"], body["missing"], body["part_uploads"]) == ("completed", [], [])
    assert (
        body["object_key"]
        == f"files/{http.get('/me', headers=auth).json()['user_id']}/" + (session["session_id"])
    )
    assert httpx.get(body["download_url"], timeout=30).content == DATA


def test_a_completed_file_becomes_a_jobs_item_and_the_job_confirms_its_upload(http, auth):
    session = open_upload(http, auth, content_type="image/jpeg").json()  # the preset's type
    put_parts(session, [1, 2, 3])
    http.post(f"/uploads/{session['session_id']}/complete", headers=auth).raise_for_status()
    job = http.post("/jobs", headers=auth, json={"preset": "portrait", "item_count": 1}).json()

    attach = {"job_id": job["job_id"], "item_index": 0}
    attached = http.post(f"/uploads/{session['session_id']}/attach", headers=auth, json=attach)
    beyond = http.post(
        f"/uploads/{session['session_id']}/attach", headers=auth, json={**attach, "item_index": 1}
    )
    confirmed = http.post(f"/jobs/{job['job_id']}/confirm-upload", headers=auth)

    assert attached.status_code == 200, attached.text
    assert beyond.status_code == 422
    assert (confirmed.status_code, confirmed.json()["status"]) == (200, "uploaded")


def test_completing_with_a_part_missing_names_it_and_a_wrong_file_is_refused(http, auth):
    session = open_upload(http, auth, sha256=sha256_of(b"another file")).json()
    put_parts(session, [1, 2])

    early = http.post(f"/uploads/{session['session_id']}/complete", headers=auth)
    put_parts(session, [3])
    wrong = http.post(f"/uploads/{session['session_id']}/complete", headers=auth)
    after = http.get(f"/uploads/{session['session_id']}", headers=auth).json()

    assert early.status_code == 409
    assert early.json()["error"]["code"] == "uploads_missing"
    assert early.json()["error"]["missing"] == [3]
    assert wrong.status_code == 422
    assert wrong.json()["error"]["code"] == "checksum_mismatch"
    assert (after["state"], after["download_url"]) == ("rejected", None)


def test_abort_drops_the_parts_and_another_user_sees_no_session(http, auth, live_server):
    session = open_upload(http, auth).json()
    put_parts(session, [1])
    _, stranger = sign_up(http)

    foreign = [
        http.get(f"/uploads/{session['session_id']}", headers=stranger),
        http.post(f"/uploads/{session['session_id']}/complete", headers=stranger),
        http.delete(f"/uploads/{session['session_id']}", headers=stranger),
    ]
    aborted = http.delete(f"/uploads/{session['session_id']}", headers=auth)
    again = http.delete(f"/uploads/{session['session_id']}", headers=auth)
    late = httpx.put(session["part_uploads"][1]["url"], content=b"x", timeout=30)

    assert [r.status_code for r in foreign] == [404, 404, 404]
    assert (aborted.status_code, aborted.json()["state"]) == (200, "aborted")
    assert again.json()["state"] == "aborted"
    # S3 answers 404 NoSuchUpload; moto's server answers 500: either way the part is refused.
    on_s3_server = live_server.services.settings.s3_bucket is not None
    assert late.status_code == 404 or (on_s3_server and late.status_code >= 400)


def test_a_repeated_open_with_the_same_idempotency_key_answers_the_first_session(http, auth):
    headers = {**auth, "Idempotency-Key": "open-1"}

    first = open_upload(http, headers).json()
    second = open_upload(http, headers).json()

    assert first["session_id"] == second["session_id"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"size": 0}, "size"),
        ({"sha256": "g" * 64}, "sha256"),
        ({"sha256": "AB" * 32}, "sha256"),
        ({"content_type": "video"}, "content_type"),
        ({"content_type": "video/mp4\u0000"}, "content_type"),
        ({"part_size": 1024}, "part_size"),
        ({"size": "12"}, "size"),
    ],
)
def test_bad_input_is_a_422_naming_the_problem(http, auth, overrides, field):
    response = open_upload(http, auth, **overrides)

    assert response.status_code == 422, response.text
    assert field in response.text


def test_a_file_over_the_limit_is_refused(http, auth, live_server):
    limit = live_server.services.settings.upload_session_max_bytes

    response = open_upload(http, auth, size=limit + 1)

    assert response.status_code == 422
    assert "size" in response.json()["error"]["message"]


def test_an_unknown_or_malformed_session_id_is_a_4xx(http, auth):
    unknown = http.get("/uploads/00000000-0000-4000-8000-000000000000", headers=auth)
    malformed = http.get("/uploads/not-a-uuid", headers=auth)
    anonymous = http.post("/uploads", json={})

    assert (unknown.status_code, malformed.status_code, anonymous.status_code) == (404, 422, 401)


def test_a_completed_file_is_attached_to_a_chat_message_and_read_by_members(http, auth):
    session = open_upload(http, auth).json()
    put_parts(session, [1, 2, 3])
    http.post(f"/uploads/{session['session_id']}/complete", headers=auth).raise_for_status()
    unfinished = open_upload(http, auth).json()
    room = http.post("/chat/rooms", headers=auth, json={"name": "Files"}).json()
    messages = f"/chat/rooms/{room['room_id']}/messages"
    _, stranger = sign_up(http)

    posted = http.post(
        messages,
        headers=auth,
        json={"client_id": "f-1", "text": "the clip", "upload_id": session["session_id"]},
    )
    not_yet = http.post(
        messages,
        headers=auth,
        json={"client_id": "f-2", "text": "too soon", "upload_id": unfinished["session_id"]},
    )
    http.post(f"/chat/rooms/{room['room_id']}/join", headers=stranger).raise_for_status()
    not_theirs = http.post(
        messages,
        headers=stranger,
        json={"client_id": "s-1", "text": "mine?", "upload_id": session["session_id"]},
    )
    message_id = posted.json()["message_id"]
    page = http.get(messages, headers=stranger).json()["messages"]
    link = http.get(f"{messages}/{message_id}/attachment", headers=stranger)
    listed = http.get(f"/uploads/{session['session_id']}", headers=auth).json()

    assert posted.status_code == 201, posted.text
    assert (not_yet.status_code, not_yet.json()["error"]["code"]) == (409, "illegal_transition")
    assert not_theirs.status_code == 404  # another user's session is not found
    assert page[0]["attachment"] == {
        "upload_id": session["session_id"],
        "content_type": "video/mp4",
        "size": len(DATA),
        "sha256": sha256_of(DATA),
    }
    assert link.status_code == 307
    assert httpx.get(link.headers["location"], timeout=30).content == DATA
    assert listed["state"] == "completed"
    plain = http.post(messages, headers=auth, json={"client_id": "p", "text": "no file"}).json()
    none = http.get(f"{messages}/{plain['message_id']}/attachment", headers=auth)
    assert none.status_code == 404 and "no attachment" in none.text
