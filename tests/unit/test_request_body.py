"""Request bodies: strict JSON types, and only text PostgreSQL can store (``RequestBody``)."""

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors
from api.schemas.base import RequestBody


class Colour(StrEnum):
    RED = "red"


class Inner(RequestBody):
    note: str


class Sample(RequestBody):
    count: int = 0
    ratio: float = 0.0
    flag: bool = False
    kind: Literal["a", "b"] = "a"
    colour: Colour | None = None
    ref: UUID | None = None
    at: datetime | None = None
    params: dict[str, str | int | float | bool] = {}
    inner: Inner | None = None
    tags: list[str] = []


@pytest.fixture(scope="module")
def http() -> TestClient:
    app = FastAPI()
    errors.install(app)

    @app.post("/sample")
    def sample(body: Sample) -> dict[str, object]:
        return body.model_dump(mode="json")

    return TestClient(app)


def post_raw(http: TestClient, raw: str):
    return http.post("/sample", content=raw.encode(), headers={"Content-Type": "application/json"})


def test_what_clients_legitimately_send_is_accepted(http):
    body = {
        "count": 3,
        "ratio": 2,
        "flag": True,
        "kind": "b",
        "colour": "red",
        "ref": "12345678-1234-5678-1234-567812345678",
        "at": "2030-01-02T03:04:05Z",
        "params": {"a": "x", "b": 1, "c": 1.5, "d": False},
        "inner": {"note": "한국어 ok"},
        "tags": ["x"],
    }

    response = http.post("/sample", json=body)

    assert response.status_code == 200, response.text
    assert response.json()["ratio"] == 2.0
    assert response.json()["params"] == {"a": "x", "b": 1, "c": 1.5, "d": False}


@pytest.mark.parametrize(
    "field, value", [("count", True), ("count", "1"), ("count", 1.0), ("ratio", "1.5"), ("flag", 1)]
)
def test_loose_json_types_are_refused(http, field, value):
    response = http.post("/sample", json={field: value})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert [f["field"] for f in response.json()["error"]["fields"]] == [f"body.{field}"]


@pytest.mark.parametrize(
    "raw, field",
    [
        ('{"tags": ["ok", "a\\u0000b"]}', "body.tags.1"),
        ('{"inner": {"note": "\\u0000"}}', "body.inner.note"),
        ('{"params": {"k": "v\\u0000"}}', "body.params.k"),
        ('{"params": {"k\\u0000": 1}}', "body.params.k\\x00"),
        ('{"inner": {"note": "\\ud800"}}', "body.inner.note"),
    ],
)
def test_text_postgresql_cannot_store_is_refused_naming_the_field(http, raw, field):
    response = post_raw(http, raw)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [f["field"] for f in error["fields"]] == [field]
    assert "U+0000" in error["message"]
