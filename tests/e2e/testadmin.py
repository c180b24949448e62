"""Helpers of the test editor's HTTP tests: the limits its server runs with, its requests."""

import pytest

from tests.unit.documents import document

TESTS = "/api/admin/tests"
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels"
MAX_TITLE = 40
MAX_DOCUMENT_BYTES = 8 * 1024


@pytest.fixture
def settings(settings):
    settings.test_max_title = MAX_TITLE
    settings.test_max_document_bytes = MAX_DOCUMENT_BYTES
    return settings


def create(http, auth, **fields):
    response = http.post(TESTS, headers=auth, json=document(**fields))
    assert response.status_code == 201, response.text
    return response.json()


def save(http, auth, test_id, version, **fields):
    headers = {**auth, "If-Match": f'"{version}"'}
    return http.put(f"{TESTS}/{test_id}", headers=headers, json=document(**fields))


def read(http, auth, test_id, position):
    response = http.get(f"{TESTS}/{test_id}", headers=auth, params={"min_position": position})
    assert response.status_code == 200, response.text
    return response


def problem(response, status):
    assert response.status_code == status, response.text
    return response.json()["error"]
