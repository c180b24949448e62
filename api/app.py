"""The FastAPI application factory (``uvicorn --factory api.app:create_app``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from api import errors
from api.bootstrap import Services, database, services
from api.middleware import RequestIdMiddleware
from api.routes import admin, auth, health, jobs, me, presets, rules, storage, worker
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
            if given is None:
                conf = settings or Settings()
                dsn = stack.enter_context(database(conf))
                given = stack.enter_context(services(conf, dsn, run_projections=run_projections))
            anyio.to_thread.current_default_thread_limiter().total_tokens = given.settings.threads
            app.state.services = given
            yield

    app = FastAPI(
        title="Chronicle",
        summary="Event-sourced credits, GPU jobs and personality tests on PostgreSQL.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.add_middleware(RequestIdMiddleware)
    errors.install(app)
    routers = (health, auth, me, admin, presets, rules, jobs, worker, storage)
    for module in routers:
        app.include_router(module.router)
    return app
