"""The OpenAPI document tells the truth: bearer auth, our error shape, presets as an enum."""

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from domain.presets import Presets
from tests.conftest import TEST_SECRET


@pytest.fixture(scope="module")
def document() -> dict:
    services = SimpleNamespace(
        settings=Settings(jwt_secret=TEST_SECRET), presets=Presets.load(), streams=None
    )
    with TestClient(create_app(services)) as http:
        return http.get("/openapi.json").json()


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def test_the_bearer_scheme_is_declared_and_used_by_authenticated_routes(document):
    schemes = document["components"]["securitySchemes"]
    me = document["paths"]["/me"]["get"]

    assert schemes == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["HTTPBearer"]["description"],
        }
    }
    assert me["security"] == [{"HTTPBearer": []}]


def test_no_operation_takes_authorization_as_a_header_parameter(document):
    as_parameter = [
        name
        for name, operation in operations(document)
        for parameter in operation.get("parameters", [])
        if parameter["name"].lower() == "authorization"
    ]

    assert as_parameter == []


def test_error_answers_are_documented_with_the_real_error_body(document):
    me = document["paths"]["/me"]["get"]["responses"]
    create_job = document["paths"]["/jobs"]["post"]["responses"]

    for status in ("401", "403", "422", "503"):
        assert me[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
    assert {"401", "402", "403", "404", "409", "422", "503"} <= set(create_job)
    assert "`insufficient_credits`" in create_job["402"]["description"]
    error = document["components"]["schemas"]["ErrorDetail"]
    assert error["required"] == ["code", "message"]


def test_fastapis_own_validation_error_shape_is_documented_nowhere(document):
    schemas = document["components"]["schemas"]

    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas


def test_reads_do_not_document_conflicts_or_payment(document):
    reads = [o for name, o in operations(document) if name.startswith("GET ")]

    assert not [o for o in reads if {"402", "409"} & set(o["responses"])]


def test_preset_is_an_enum_of_the_configured_presets(document):
    presets = sorted(p.id for p in Presets.load().all())
    schemas = document["components"]["schemas"]

    assert schemas["JobCreate"]["properties"]["preset"]["enum"] == presets
    assert schemas["RuleWrite"]["properties"]["preset"]["enum"] == presets
