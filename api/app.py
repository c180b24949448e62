"""The FastAPI application factory (``uvicorn --factory api.app:create_app``)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from types import ModuleType

import anyio.to_thread
from fastapi import FastAPI

from api import errors, openapi, pages
from api.bootstrap import database, services
from api.middleware import RequestMiddleware
from api.routes import (
    admin,
    assets,
    audit,
    auth,
    chat,
    chatsocket,
    deadletters,
    health,
    jobs,
    live,
    me,
    metrics,
    presets,
    rules,
    storage,
    testadmin,
    testimages,
    tests,
    teststatus,
    uploads,
    worker,
)
from api.services import Services
from api.settings import Settings


def create_app(
    built: Services | None = None,
    *,
    settings: Settings | None = None,
    run_projections: bool = False,
) -> FastAPI:
    """The API on ``built`` services, or on services built from ``settings`` at startup."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            given = built
            if given is None:  # a served process (tests hand in theirs, many apps a process)
                conf = settings or Settings()
                dsn = stack.enter_context(database(conf))
                given = stack.enter_context(services(conf, dsn, run_projections=run_projections))
                settle_heap()
            anyio.to_thread.current_default_thread_limiter().total_tokens = given.settings.threads
            app.state.services = given
            if given.streams:
                given.streams.close_on_signals()
            yield

    app = FastAPI(
        title="Chronicle",
        summary="Event-sourced credits, GPU jobs and personality tests on PostgreSQL.",
        version="0.1.0",
        lifespan=lifespan,
    )
    # One layer: metrics, the request id, a 500, rate limits, printable URLs, the body limit.
    app.add_middleware(RequestMiddleware)
    errors.install(app)
    openapi.install(app, [module.router for module in ROUTERS])
    for module in (*HOT, *(module for module in ROUTERS if module not in HOT)):
        app.include_router(module.router, responses=openapi.error_responses(*ROUTERS[module]))
    pages.install(app)
    return app


def settle_heap() -> None:
    """Keep what startup made out of the cyclic collector's full passes (``gc.freeze``).

    A full collection walks every tracked object, about 200,000 once the API is up (0.1 s
    here, no request answered meanwhile: the p99 of every route, bench/README.md). What
    startup made lives as long as the process; reference counting still frees it.
    """
    gc.collect()
    gc.freeze()


# Each router with the error statuses its routes answer, in the order OpenAPI lists them.
ROUTERS: dict[ModuleType, tuple[int, ...]] = {
    health: (503,),
    metrics: (404, 503),
    auth: (400, 413, 422, 429, 503),
    me: (401, 403, 422, 429, 503),
    admin: (400, 401, 403, 404, 409, 413, 422, 429, 503),
    deadletters: (400, 401, 403, 404, 409, 413, 422, 429, 503),
    audit: (401, 403, 404, 422, 429, 503),
    presets: (429, 503),
    rules: (400, 401, 403, 404, 409, 413, 422, 429, 503),
    jobs: (400, 401, 402, 403, 404, 409, 413, 422, 429, 503),
    worker: (400, 401, 403, 404, 409, 413, 422, 429, 503),
    storage: (400, 403, 404, 413, 422, 503),
    uploads: (400, 401, 403, 404, 409, 413, 422, 429, 503),
    testadmin: (400, 401, 403, 404, 409, 413, 422, 428, 429, 503),
    testimages: (400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
    teststatus: (401, 403, 404, 422, 429, 503),
    live: (401, 403, 404, 422, 429, 503),
    chat: (401, 403, 404, 409, 413, 422, 429, 503),
    chatsocket: (),
    tests: (400, 404, 413, 422, 429, 503),
    assets: (404, 429, 503),
}
# Included first, in this order, so that Starlette, which tries routes in order, finds them
# first: the routes most requests take (health probes, the mobile app's credits, the workers'
# leases and callbacks, the jobs, the test site's public reads); each route tried before the one
# that matches costs about 4 µs (bench/README.md). No path of theirs matches a route of another
# router (tests/unit/test_routing.py), so the order changes which route answers no request.
HOT: tuple[ModuleType, ...] = (health, me, worker, jobs, tests)
