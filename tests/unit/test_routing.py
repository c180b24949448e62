"""Every route answers its own requests in the order the app tries them: none shadows another.

The app includes its busiest routers first (``api.app.HOT``); a route of a router included
earlier whose path also matched a later route's would take that route's requests. Each route
here gets a request built from its own path template and must be the one that answers it
(Starlette names the endpoint that answered in the request's scope, ``scope["endpoint"]``).
"""

import contextlib
import logging
import re
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

from api import pages
from api.app import ROUTERS, create_app
from api.settings import Settings
from domain.presets import Presets
from tests.conftest import TEST_SECRET

ID = "00000000-0000-4000-8000-000000000001"
PARAMETER = re.compile(r"\{(\w+)(:\w+)?\}")
ROUTES = [
    route
    for router in [m.router for m in ROUTERS] + [pages.session.router, pages.audit.router]
    for route in router.routes
]


def sample_path(template: str) -> str:
    """The template with every parameter filled in (a path parameter with two segments)."""
    return PARAMETER.sub(lambda m: "images/a/b.png" if m.group(2) == ":path" else ID, template)


def name(route: BaseRoute) -> str:
    methods = sorted(getattr(route, "methods", None) or ["WEBSOCKET"])
    return f"{'|'.join(methods)} {getattr(route, 'path', '?')}"


@pytest.fixture(scope="module")
def answered() -> Any:
    """A client of the API with no database, and the endpoints that answered its requests."""
    seen: list[Any] = []

    class Recorder:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            try:
                await self.app(scope, receive, send)
            finally:
                seen.append(scope.get("endpoint"))

    settings = Settings(jwt_secret=TEST_SECRET)
    app = create_app(SimpleNamespace(settings=settings, presets=Presets.load(), streams=None))
    app.add_middleware(Recorder)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, seen


@pytest.mark.parametrize("route", ROUTES, ids=name)
def test_a_request_on_a_routes_own_path_is_answered_by_that_route(answered, route, caplog):
    client, seen = answered
    path = sample_path(route.path)
    caplog.set_level(logging.CRITICAL)  # the routes fail without services, after matching

    if isinstance(route, WebSocketRoute) or not getattr(route, "methods", None):
        with contextlib.suppress(AttributeError, WebSocketDisconnect):  # it needs services
            client.websocket_connect(path).__enter__()
    else:
        client.request(sorted(route.methods)[0], path)

    assert seen[-1] is route.endpoint


def test_routes_of_the_document_are_listed_in_their_documented_order(answered):
    client, _ = answered
    golden = open("tests/golden/openapi_operations.txt").read().splitlines()

    document = client.get("/openapi.json").json()

    listed = [f"{m.upper()} {path}" for path, ops in document["paths"].items() for m in ops]
    assert listed == golden
