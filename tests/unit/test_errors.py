"""Every domain error type has its own HTTP status."""

from fastapi.testclient import TestClient

from api.errors import STATUS
from domain.errors import ChronicleError, all_error_types


def test_every_domain_error_type_is_mapped_to_a_status():
    unmapped = [cls.__name__ for cls in all_error_types() if cls not in STATUS]
    assert unmapped == []


def test_statuses_are_client_or_unavailable_errors():
    assert set(STATUS.values()) <= {400, 401, 402, 403, 404, 409, 422, 503}


def test_every_error_code_is_distinct():
    codes = [cls.code for cls in all_error_types()]
    assert len(codes) == len(set(codes))


def test_a_domain_error_renders_as_an_error_body_with_its_status():
    from fastapi import FastAPI

    from api import errors
    from domain.errors import InsufficientCredits

    app = FastAPI()
    errors.install(app)

    @app.get("/boom")
    def boom() -> None:
        raise InsufficientCredits("needs 5, has 2")

    response = TestClient(app).get("/boom")
    assert response.status_code == 402
    assert response.json() == {
        "error": {"code": "insufficient_credits", "message": "needs 5, has 2"}
    }
    assert issubclass(InsufficientCredits, ChronicleError)
