"""Test images over HTTP, through the local store and moto's S3 server: stored once by hash."""

import hashlib
import os
from typing import Any

import pytest

from tests.conftest import on_s3
from tests.unit.documents import document

TESTS = "/api/admin/tests"
IMAGE_MAX_BYTES = 2048


class RecordingStore:
    """The real object store, noting each ``put`` (the key and content type it stored)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.puts: list[tuple[str, str]] = []

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.puts.append((key, content_type))
        self.store.put(key, data, content_type)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@pytest.fixture(params=["local", "s3"])
def settings(request, settings):
    settings.image_max_bytes = IMAGE_MAX_BYTES
    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        on_s3(settings, endpoint)
    return settings


@pytest.fixture
def store(live_server):
    recording = RecordingStore(live_server.services.object_store)
    live_server.services.object_store = recording
    return recording


@pytest.fixture
def test(http, admin):
    response = http.post(TESTS, headers=admin, json=document())
    assert response.status_code == 201, response.text
    return response.json()


def png(size: int = 64) -> bytes:
    """A PNG signature followed by random bytes: the type is told from the signature."""
    return b"\x89PNG\r\n\x1a\n" + os.urandom(size - 8)


def key_of(data: bytes, extension: str = "png") -> str:
    return f"images/{hashlib.sha256(data).hexdigest()}.{extension}"


def upload(http, auth, test_id, data, question=None, name="a.png", content_type="image/png"):
    form = {} if question is None else {"question": str(question)}
    files = {"file": (name, data, content_type)}
    return http.post(f"{TESTS}/{test_id}/images", headers=auth, data=form, files=files)


def put_result(http, auth, test_id, mbti, data, content_type="image/png"):
    headers = {**auth, "Content-Type": content_type}
    return http.put(f"{TESTS}/{test_id}/results/{mbti}/image", headers=headers, content=data)


def test_thumbnail_question_and_result_images_are_stored_and_attached(
    http, admin, test, store, live_server
):
    thumbnail, question, result = png(), png(), png()

    answers = [
        upload(http, admin, test["test_id"], thumbnail),
        upload(http, admin, test["test_id"], question, question=2),
        put_result(http, admin, test["test_id"], "INTJ", result),
    ]

    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    bodies = [a.json() for a in answers]
    assert [b["target"] for b in bodies] == [
        "thumbnail",
        "questions[2].image",
        "results.INTJ.image",
    ]
    assert [b["key"] for b in bodies] == [key_of(thumbnail), key_of(question), key_of(result)]
    assert [b["version"] for b in bodies] == [2, 3, 4]
    assert answers[2].headers["ETag"] == '"4"'
    assert bodies[0]["url"] == f"{live_server.url}/assets/{key_of(thumbnail)}"
    assert store.get(key_of(result)) == result
    saved = http.get(
        f"{TESTS}/{test['test_id']}", headers=admin, params={"min_position": bodies[2]["position"]}
    ).json()["document"]
    assert saved["thumbnail"] == key_of(thumbnail)
    assert saved["questions"][2]["image"] == key_of(question)
    assert saved["results"]["INTJ"]["image"] == key_of(result)


def test_a_result_image_can_be_sent_as_a_multipart_form_too(http, admin, test, store):
    data = png()

    response = http.put(
        f"{TESTS}/{test['test_id']}/results/ENFP/image",
        headers=admin,
        files={"file": ("enfp.png", data, "image/png")},
    )

    assert response.status_code == 200, response.text
    assert response.json()["key"] == key_of(data)
    assert store.get(key_of(data)) == data


@pytest.mark.parametrize("route", ["images", "results/ENFP/image"])
def test_a_broken_multipart_body_is_400_malformed_body_and_stores_nothing(
    http, admin, test, store, route
):
    headers = {**admin, "Content-Type": "multipart/form-data; boundary=xx"}
    broken = b"--xx\r\nno header line\r\n\r\n" + png() + b"\r\n--xx--\r\n"

    response = http.request(
        "POST" if route == "images" else "PUT",
        f"{TESTS}/{test['test_id']}/{route}",
        headers=headers,
        content=broken,
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_body"
    assert store.puts == []


def test_the_same_bytes_uploaded_twice_are_stored_once_under_one_key(http, admin, test, store):
    data = png()

    first = upload(http, admin, test["test_id"], data)
    again = upload(http, admin, test["test_id"], data)
    elsewhere = upload(http, admin, test["test_id"], data, question=0)

    assert first.json()["key"] == again.json()["key"] == elsewhere.json()["key"] == key_of(data)
    assert store.puts == [(key_of(data), "image/png")]
    assert (again.json()["version"], again.json()["position"]) == (2, None)
    assert elsewhere.json()["version"] == 3


def test_the_type_comes_from_the_bytes_not_the_name_or_content_type(http, admin, test, store):
    data = png()

    response = upload(
        http, admin, test["test_id"], data, name="photo.jpg", content_type="image/jpeg"
    )
    raw = put_result(http, admin, test["test_id"], "ISTP", png(), content_type="image/gif")

    assert response.json()["key"] == key_of(data, "png")
    assert raw.json()["key"].endswith(".png")
    assert [content_type for _, content_type in store.puts] == ["image/png", "image/png"]


@pytest.mark.parametrize(
    "data", [b"just some text, not an image", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b""]
)
def test_a_file_that_is_no_supported_image_is_415_and_nothing_is_stored(
    http, admin, test, store, data
):
    as_form = upload(http, admin, test["test_id"], data, name="a.png")
    as_body = put_result(http, admin, test["test_id"], "INTJ", data)

    for response in (as_form, as_body):
        assert response.status_code == 415, response.text
        error = response.json()["error"]
        assert error["code"] == "unsupported_media_type"
        assert "image/png, image/jpeg, image/webp, image/gif" in error["message"]
    assert store.puts == []


def test_an_image_over_the_limit_is_413_and_nothing_is_stored(http, admin, test, store):
    data = png(IMAGE_MAX_BYTES + 1)

    as_form = upload(http, admin, test["test_id"], data)
    as_body = put_result(http, admin, test["test_id"], "INTJ", data)
    far_over = upload(http, admin, test["test_id"], png(IMAGE_MAX_BYTES + 128 * 1024))

    for response in (as_form, as_body, far_over):
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "payload_too_large"
    assert f"{IMAGE_MAX_BYTES:,}" in as_form.json()["error"]["message"]
    assert store.puts == []


def test_an_image_of_exactly_the_limit_is_taken(http, admin, test, store):
    data = png(IMAGE_MAX_BYTES)

    response = upload(http, admin, test["test_id"], data)

    assert response.status_code == 200, response.text
    assert store.puts == [(key_of(data), "image/png")]


def test_an_upload_for_an_unknown_test_is_404_and_stores_nothing(http, admin, store):
    unknown = "00000000-0000-4000-8000-000000000000"
    data = png()

    as_form = upload(http, admin, unknown, data)
    as_body = put_result(http, admin, unknown, "INTJ", data)

    assert [as_form.status_code, as_body.status_code] == [404, 404]
    assert store.puts == [] and not store.exists(key_of(data))


def test_an_image_for_a_question_the_test_lacks_is_422_and_stores_nothing(http, admin, test, store):
    response = upload(http, admin, test["test_id"], png(), question=4)  # it has 4 questions

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "target"
    assert store.puts == []


def test_an_unknown_mbti_type_in_the_path_is_422(http, admin, test, store):
    response = put_result(http, admin, test["test_id"], "XXXX", png())

    assert response.status_code == 422
    assert "mbti" in response.json()["error"]["message"]
    assert store.puts == []


def test_only_admins_may_upload_images(http, test, live_server, store):
    user = {"Authorization": f"Bearer {live_server.services.tokens.issue('u', 'user')}"}

    anonymous = upload(http, {}, test["test_id"], png())
    as_user = put_result(http, user, test["test_id"], "INTJ", png())

    assert [anonymous.status_code, as_user.status_code] == [401, 403]
    assert store.puts == []
