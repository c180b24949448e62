"""Every domain error type has its own HTTP status."""

import pytest
from fastapi.testclient import TestClient

from api.errors import STATUS
from domain.errors import all_error_types


def test_every_domain_error_type_is_mapped_to_a_status():
    unmapped = [cls.__name__ for cls in all_error_types() if cls not in STATUS]
    assert unmapped == []


def test_statuses_are_client_or_unavailable_errors():
    assert set(STATUS.values()) <= {400, 401, 402, 403, 404, 409, 413, 415, 422, 428, 429, 503}


def test_every_error_code_is_distinct():
    codes = [cls.code for cls in all_error_types()]
    assert len(codes) == len(set(codes))


def raising(error: Exception) -> TestClient:
    """A client of an app whose one route raises ``error``, with the API's edge and handlers."""
    from fastapi import FastAPI

    from api import errors
    from api.middleware import RequestMiddleware

    app = FastAPI()
    app.add_middleware(RequestMiddleware)  # answers the 500
    errors.install(app)

    @app.get("/boom")
    def boom() -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("cls", all_error_types(), ids=lambda cls: cls.__name__)
def test_each_domain_error_renders_its_own_code_message_and_status(cls):
    response = raising(cls(f"{cls.__name__} happened")).get("/boom")

    assert response.status_code == STATUS[cls]
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": {"code": cls.code, "message": f"{cls.__name__} happened"}}
    assert ("www-authenticate" in response.headers) == (STATUS[cls] == 401)
    assert ("retry-after" in response.headers) == (STATUS[cls] == 503)


def test_an_error_renders_its_details_beside_the_message():
    from domain.errors import VersionConflict

    response = raising(VersionConflict("rule r1 is at version 4", current_version=4)).get("/boom")

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "version_conflict",
            "message": "rule r1 is at version 4",
            "current_version": 4,
        }
    }


def test_an_unexpected_error_is_a_500_that_echoes_nothing_of_it():
    response = raising(RuntimeError("password=hunter2 at db.internal")).get("/boom")

    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal", "message": "an unexpected error occurred"}
    }


def test_a_connection_refused_for_want_of_slots_is_a_503_counted_and_logged_once(caplog):
    import psycopg

    from eventstore.connections import REFUSALS

    refused = psycopg.errors.TooManyConnections("FATAL: sorry, too many clients already")
    client = raising(refused)
    REFUSALS.admitted()  # no episode under way
    before = REFUSALS.count

    answers = [client.get("/boom") for _ in range(3)]

    assert {a.status_code for a in answers} == {503}
    assert {a.json()["error"]["code"] for a in answers} == {"store_unavailable"}
    assert all(a.headers["retry-after"] == "1" for a in answers)
    assert REFUSALS.count == before + 3
    assert sum("refused a connection" in r.getMessage() for r in caplog.records) == 1
    REFUSALS.admitted()
