"""Test images: the type comes from the magic bytes, the key from the content's hash."""

import hashlib

import pytest

from domain.images import GIF, JPEG, PNG, WEBP, accepted, content_type_of, image_key, sniff

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"rest"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG_BYTES, PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
        (b"GIF87a\x01\x00", GIF),
        (b"GIF89a\x01\x00", GIF),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", WEBP),
    ],
)
def test_each_supported_type_is_told_from_its_magic_bytes(data, expected):
    assert sniff(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"<html><script>alert(1)</script>",
        b"\x89PNG\r\n",  # a PNG signature cut short
        b"RIFF\x24\x00\x00\x00WAVEfmt ",  # RIFF, but audio
        b"GIF88a",
        b"%PDF-1.7",
    ],
)
def test_bytes_of_no_supported_image_type_are_not_an_image(data):
    assert sniff(data) is None


def test_the_key_is_the_sha256_of_the_bytes_with_the_types_extension():
    key = image_key(PNG_BYTES, PNG.extension)

    assert key == f"images/{hashlib.sha256(PNG_BYTES).hexdigest()}.png"


def test_the_same_bytes_always_get_the_same_key_and_other_bytes_another():
    assert image_key(PNG_BYTES, "png") == image_key(bytes(PNG_BYTES), "png")
    assert image_key(PNG_BYTES, "png") != image_key(PNG_BYTES + b"!", "png")


def test_a_key_cannot_be_made_with_an_extension_of_no_supported_type():
    with pytest.raises(ValueError, match="svg"):
        image_key(PNG_BYTES, "svg")


@pytest.mark.parametrize("kind", [PNG, JPEG, WEBP, GIF])
def test_the_content_type_of_a_key_comes_from_its_extension(kind):
    assert content_type_of(image_key(b"x", kind.extension)) == kind.content_type


@pytest.mark.parametrize(
    "key",
    [
        "uploads/0b4e1c0e-0000-4000-8000-000000000000/job/0",  # a job's upload
        "images/abc.png",  # not a sha256
        f"images/{'a' * 64}.svg",
        f"images/{'A' * 64}.png",
        f"images/../{'a' * 64}.png",
        f"x/images/{'a' * 64}.png",
    ],
)
def test_a_key_not_shaped_like_an_image_key_has_no_content_type(key):
    assert content_type_of(key) is None


def test_the_accepted_types_are_named_for_messages():
    assert accepted() == "image/png, image/jpeg, image/webp, image/gif"
