"""Dependencies shared by routes: services, the caller, command context (waits: api.waits)."""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, ParamSpec, TypeVar

import anyio.to_thread
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Principal
from api.bootstrap import Services
from api.waits import (  # noqa: F401  (routes import the read-your-writes waits from here)
    BIGINT_MAX,
    caught_up,
    find_or_not_found,
    wait_for,
)
from domain.errors import (
    EventStoreUnavailable,
    InvalidCommand,
    Unauthenticated,
)
from eventstore.executor import Outcome
from eventstore.idempotency import Idempotency

T = TypeVar("T")
P = ParamSpec("P")


def in_thread(route: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """A route that blocks (on the database), made async: its body runs in the thread pool and
    its answer is checked and encoded on the event loop. FastAPI would hand a plain ``def``
    route to the pool twice, once to run it and once to check its answer (``response_model``).
    """

    @functools.wraps(route)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return await anyio.to_thread.run_sync(functools.partial(route, *args, **kwargs))

    return run


async def get_services(request: Request) -> Services:
    # async, as every dependency that does no I/O: FastAPI runs a plain def in the thread pool
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


# Declares the bearer scheme in OpenAPI; the 401 answers stay ours (auto_error=False).
bearer_scheme = HTTPBearer(auto_error=False, description="A token from `POST /auth/anon`.")


async def get_principal(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    # async: verifying a token is CPU-only work, not worth a hop to the thread pool
    if credentials is None:
        if request.headers.get("authorization"):
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        raise Unauthenticated("an 'Authorization: Bearer <token>' header is required")
    return services.tokens.verify(credentials.credentials.strip())


def _role(role: str) -> Any:
    async def require(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        principal.require(role)
        return principal

    return Depends(require)


UserPrincipal = Annotated[Principal, _role("user")]
AdminPrincipal = Annotated[Principal, _role("admin")]
WorkerPrincipal = Annotated[Principal, _role("worker")]


@dataclass(frozen=True)
class CommandContext:
    """Who issues a command, under which request, and its idempotency key if any."""

    metadata: dict[str, str]
    idempotency: Idempotency | None

    def run(self, services: Services, command: Any, present: Any = None) -> Outcome[Any]:
        return services.executor.execute(
            command, metadata=self.metadata, idempotency=self.idempotency, present=present
        )


async def _command_context(
    request: Request,
    principal: Annotated[Principal, Depends(get_principal)],
    idempotency_key: Annotated[
        str | None,
        Header(description="Repeat a POST with the same key to get its first response back."),
    ] = None,
) -> CommandContext:
    return await command_context(request, principal.actor, idempotency_key)


async def command_context(
    request: Request, actor: str, idempotency_key: str | None, *, scope: str | None = None
) -> CommandContext:
    """The metadata and idempotency of a command made by ``actor`` in ``request``.

    Idempotency keys are scoped to the actor (or to ``scope``, for callers with no identity yet).
    """
    request_id = request.state.request_id
    metadata = {
        "actor": actor,
        "correlation_id": request_id,
        "causation_id": f"request:{request_id}",
    }
    if idempotency_key is None:
        return CommandContext(metadata, None)
    if not 1 <= len(idempotency_key) <= 200 or not idempotency_key.isprintable():
        raise InvalidCommand("Idempotency-Key must be 1 to 200 printable characters")
    body = await request.body()
    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.url.path.encode(), body])
    ).hexdigest()
    metadata["causation_id"] = f"idempotency-key:{idempotency_key}"
    key = f"{scope or actor}:{idempotency_key}"
    return CommandContext(metadata, Idempotency(key, fingerprint))


Command = Annotated[CommandContext, Depends(_command_context)]


def user_id_of(principal: Principal) -> uuid.UUID:
    """The user id a user token is for."""
    try:
        return uuid.UUID(principal.subject)
    except ValueError:
        raise Unauthenticated("the token's subject is not a user id") from None


def read_aggregate(services: Services, cls: type[T], aggregate_id: uuid.UUID) -> T | None:
    """The ``cls`` aggregate as last saved, or None: a read of the event store, never a command.

    Reads never go through the executor: under a caller's Idempotency-Key the executor would
    store a read's answer as the command's.
    """
    try:
        aggregate = services.event_store.repository.get(aggregate_id)
    except AggregateNotFoundError:
        return None
    except (OperationalError, InterfaceError) as exc:
        raise EventStoreUnavailable("the event store could not be reached; retry shortly") from exc
    return aggregate if isinstance(aggregate, cls) else None
