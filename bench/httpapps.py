"""The apps ``bench.bench_http`` serves, each a factory for ``uvicorn --factory`` or granian's.

- ``bare_async``, ``bare_def``: FastAPI with one route, ``GET /health`` answering what
  Chronicle's does, as an ``async def`` or as a plain ``def`` (run in the thread pool, as
  Chronicle's is);
- ``bare_def_included``: that ``def`` route on an ``APIRouter`` included in the app, as every
  route of Chronicle is;
- ``bare_def_bytes``: the ``def`` route answering bytes it encoded itself (no response model to
  validate and serialize);
- ``chronicle_without_edge``: the API without its request layer (``api.middleware``);
- ``chronicle_documented_order``: the API with its routers included in the documented order,
  none first (``api.app.HOT`` emptied);
- ``chronicle_unfrozen``: the API with what its startup froze (``api.app.settle_heap``)
  handed back to the cyclic collector, as it was before that.

The API itself is ``bench.apiserver:create_app``, which every revision of it has.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Response

from bench.apiserver import create_app as chronicle

HEALTH = b'{"status":"ok"}'


def bare_async() -> FastAPI:
    """One ``async def`` route."""
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def bare_def() -> FastAPI:
    """One plain ``def`` route."""
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def bare_def_included() -> FastAPI:
    """One plain ``def`` route, on an included router."""
    app, router = FastAPI(), APIRouter()

    @router.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(router)
    return app


def bare_def_bytes() -> FastAPI:
    """One plain ``def`` route answering bytes encoded once."""
    app = FastAPI()

    @app.get("/health")
    def health() -> Response:
        return Response(HEALTH, media_type="application/json")

    return app


def chronicle_without_edge() -> FastAPI:
    """The API without its middleware."""
    app = chronicle()
    app.user_middleware.clear()
    return app


def chronicle_documented_order() -> FastAPI:
    """The API with no router included ahead of its documented place."""
    import api.app

    api.app.HOT = ()
    return chronicle()


def chronicle_unfrozen() -> FastAPI:
    """The API, its startup's objects back in the collector's full passes."""
    app = chronicle()
    started = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: Any) -> AsyncIterator[Any]:
        async with started(served) as state:
            gc.unfreeze()
            yield state

    app.router.lifespan_context = lifespan
    return app
