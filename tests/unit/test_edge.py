"""The edge every request passes: request ids, printable URLs, body limits, one log per 500."""

import logging
from types import SimpleNamespace

import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient
from psycopg_pool import PoolTimeout

from api.app import create_app
from api.schemas.base import RequestBody
from api.settings import Settings
from domain.presets import Presets
from tests.conftest import TEST_SECRET

LIMIT = 4096


class Note(RequestBody):
    text: str


def edge_app(failure: BaseException | None = None) -> TestClient:
    """The API with no database, plus routes that echo a body, a query, or raise ``failure``."""
    settings = Settings(jwt_secret=TEST_SECRET, request_max_bytes=LIMIT)
    app = create_app(SimpleNamespace(settings=settings, presets=Presets.load(), streams=None))

    def echo(body: Note) -> dict[str, int]:
        return {"length": len(body.text)}

    def query(q: str = "") -> dict[str, str]:
        return {"q": q}

    def fail() -> None:
        assert failure is not None
        raise failure

    app.add_api_route("/echo", echo, methods=["POST"])
    app.add_api_route("/query", query)
    app.add_api_route("/fail", fail)
    return TestClient(app)


@pytest.fixture(scope="module")
def http():
    with edge_app() as client:
        yield client


def test_a_request_id_is_echoed_or_made(http):
    given = http.get("/health", headers={"X-Request-ID": "trace-1"})
    made = http.get("/health")

    assert given.headers["x-request-id"] == "trace-1"
    assert len(made.headers["x-request-id"]) == 32


@pytest.mark.parametrize("value", ["a\tb", "x" * 129, "caf\xe9"])
def test_an_unprintable_or_overlong_request_id_is_refused(http, value):
    response = http.get("/health", headers={"X-Request-ID": value.encode("latin-1")})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"
    assert "X-Request-ID" in response.json()["error"]["message"]


@pytest.mark.parametrize("value", ["qa/7a2f1cd0?x#y", "a b", "100%", "x:y"])
def test_a_request_id_that_a_url_path_cannot_carry_is_refused_naming_the_rule(http, value):
    response = http.get("/health", headers={"X-Request-ID": value})

    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "X-Request-ID must be 1 to 128 of the characters A-Z a-z 0-9 . _ ~ -"
    )


@pytest.mark.parametrize("raw", ["q=a%00b", "q=line%0Abreak", "q%00=1"])
def test_an_unprintable_query_parameter_is_refused(http, raw):
    response = http.get(f"/query?{raw}")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_printable_query_parameter_passes(http):
    assert http.get("/query?q=%ED%95%9C%20ok").json() == {"q": "한 ok"}


def test_an_unprintable_path_is_refused(http):
    response = http.get("/rules/a%00b")

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


def test_a_body_over_the_limit_is_refused_by_its_declared_length(http):
    response = http.post("/echo", json={"text": "x" * LIMIT})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_body_over_the_limit_is_refused_without_a_declared_length(http):
    def chunks():
        yield b'{"text": "'
        for _ in range(LIMIT // 512 + 1):
            yield b"x" * 512
        yield b'"}'

    response = http.post("/echo", content=chunks(), headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_body_under_the_limit_passes_streamed_or_not(http):
    def chunks():
        yield b'{"text": "'
        yield b"x" * 100
        yield b'"}'

    streamed = http.post("/echo", content=chunks(), headers={"Content-Type": "application/json"})
    whole = http.post("/echo", json={"text": "x" * 100})

    assert streamed.json() == whole.json() == {"length": 100}


def test_an_unexpected_error_is_logged_once_with_its_traceback_and_answered_500(caplog):
    with edge_app(RuntimeError("password=hunter2")) as client:  # raises if it escapes the app
        response = client.get("/fail")

    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal", "message": "an unexpected error occurred"}
    }
    assert response.headers["x-request-id"]
    logged = [r for r in caplog.records if r.exc_info]
    assert len(logged) == 1
    assert logged[0].levelno == logging.ERROR


@pytest.mark.parametrize(
    "failure",
    [
        psycopg.OperationalError("connection to server at 10.0.0.7 failed: refused"),
        PoolTimeout("couldn't get a connection after 3.00 sec"),
        OperationalError("server closed the connection unexpectedly"),
        psycopg.InterfaceError("the connection is closed"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_a_database_failure_is_a_503_store_unavailable_that_echoes_nothing_of_it(failure, caplog):
    with edge_app(failure) as client:
        response = client.get("/fail")

    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["error"]["code"] == "store_unavailable"
    assert str(failure) not in response.text
    assert str(failure) in caplog.text  # the driver's words go to the log
