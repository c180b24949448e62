"""The edges a client meets before any route runs: 405 with every allowed method, malformed bodies.

Both are answered by the framework before a dependency runs, so the app needs no services.
"""

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from domain.presets import Presets
from tests.conftest import TEST_SECRET

TEST = "/api/admin/tests/00000000-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def http():
    services = SimpleNamespace(
        settings=Settings(jwt_secret=TEST_SECRET), presets=Presets.load(), streams=None
    )
    with TestClient(create_app(services)) as client:
        yield client


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("PUT", "/jobs", "GET, POST"),
        ("PATCH", "/rules", "GET, POST"),
        ("POST", "/rules/00000000-0000-4000-8000-000000000001", "GET, PUT, DELETE"),
        ("PATCH", "/api/admin/tests", "GET, POST"),
        ("POST", TEST, "GET, PUT, DELETE"),
        ("DELETE", f"{TEST}/publish", "POST"),
    ],
)
def test_a_405_names_every_method_the_path_takes_in_the_error_shape(http, method, path, allow):
    response = http.request(method, path)

    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    error = response.json()["error"]
    assert error["code"] == "method_not_allowed"
    assert allow in error["message"]


@pytest.mark.parametrize("raw", [b'{"preset": "small", "items":', b"{not json", b"\xff{}"])
def test_a_body_that_is_not_json_is_400_malformed_body(http, raw):
    response = http.post("/jobs", content=raw, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_body"
    assert response.json()["error"]["message"]


@pytest.mark.parametrize(
    "content_type, raw",
    [
        ("multipart/form-data", b"--xx\r\n"),  # no boundary
        ("multipart/form-data; boundary=xx", b"--xx\r\nno header\r\n\r\nabc\r\n--xx--\r\n"),
    ],
)
def test_a_broken_multipart_body_is_400_malformed_body(http, content_type, raw):
    response = http.post(f"{TEST}/images", content=raw, headers={"Content-Type": content_type})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_body"


def test_malformed_body_is_documented_where_a_body_is_parsed_and_only_there(http):
    paths = http.get("/openapi.json").json()["paths"]

    for method, path in [("post", "/jobs"), ("put", "/api/admin/tests/{test_id}")]:
        documented = paths[path][method]["responses"]["400"]
        assert "`malformed_body`" in documented["description"]
        assert documented["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")
    assert "400" in paths["/api/admin/tests/{test_id}/images"]["post"]["responses"]
    assert "400" not in paths["/jobs"]["get"]["responses"]
    assert "400" not in paths["/api/admin/tests/{test_id}/publish"]["post"]["responses"]
