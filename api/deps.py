"""What routes take: one collaborator each (``ExecutorDep``, ``ObjectStoreDep``, ...), the caller,
and the context of a command (who, which request, its idempotency key).

Every alias reads what ``api.bootstrap`` built for this process from ``app.state``; queries take
``ReadsDep`` (``api.reads``). Dependencies that do no I/O are async: FastAPI would run a plain
``def`` in the thread pool, one hand-over per request.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Annotated, Any, ParamSpec, TypeVar

import anyio.to_thread
from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.cache import Cache
from adapters.search import SearchIndex
from adapters.storage import ObjectStore
from api.auth import Principal, TokenIssuer
from api.metrics import Metrics
from api.services import Services
from api.settings import Settings
from api.streams import Streams
from domain.base import Aggregates
from domain.errors import ChronicleError, InvalidCommand, NotFound, Unauthenticated
from domain.presets import Presets
from domain.quotas import Quotas
from domain.testdocument import TestDocument
from eventstore.executor import CommandExecutor, Outcome
from eventstore.idempotency import Idempotency
from projections.testembeddings.search import TestMeaning

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


async def _services(request: Request) -> Services:
    return request.app.state.services


_ServicesDep = Annotated[Services, Depends(_services)]


def _part(name: str) -> Any:
    """A dependency on the collaborator ``name`` of the services (an attribute path)."""

    get = attrgetter(name)

    async def part(services: _ServicesDep) -> Any:
        return get(services)

    return Depends(part)


SettingsDep = Annotated[Settings, _part("settings")]
ExecutorDep = Annotated[CommandExecutor, _part("executor")]
# Aggregates as last saved, read from the event store: a read, never a command (under a
# caller's Idempotency-Key the executor would store a read's answer as the command's).
SavedDep = Annotated[Aggregates, _part("executor.saved")]
EventStoreDep = Annotated[Any, _part("event_store")]
ObjectStoreDep = Annotated[ObjectStore, _part("object_store")]
SearchDep = Annotated[SearchIndex, _part("search")]
MeaningDep = Annotated[TestMeaning, _part("meaning")]
CacheDep = Annotated[Cache, _part("cache")]
PresetsDep = Annotated[Presets, _part("presets")]
QuotasDep = Annotated[Quotas, _part("quotas")]
TokensDep = Annotated[TokenIssuer, _part("tokens")]
MetricsDep = Annotated[Metrics, _part("metrics")]
StreamsDep = Annotated[Streams, _part("streams")]
# The primary itself, for writes outside the executor (leases, dead letters' retries) and reads
# of what they just wrote: never a replica.
PrimaryDep = Annotated[Any, _part("primary")]


# Declares the bearer scheme in OpenAPI; the 401 answers stay ours (auto_error=False).
bearer_scheme = HTTPBearer(auto_error=False, description="A token from `POST /auth/anon`.")


async def get_principal(
    request: Request,
    tokens: TokensDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    # async: verifying a token is CPU-only work, not worth a hop to the thread pool
    if credentials is None:
        if request.headers.get("authorization"):
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
        raise Unauthenticated("an 'Authorization: Bearer <token>' header is required")
    return tokens.verify(credentials.credentials.strip())


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
    executor: CommandExecutor

    def run(self, command: Any, idempotency: Idempotency | None = None) -> Outcome[Any]:
        """Run ``command`` under this context (under ``idempotency`` instead of the request's
        key if given); its outcome, or its domain error raised."""
        key = idempotency or self.idempotency
        return self.executor.execute(command, metadata=self.metadata, idempotency=key)

    def run_each(
        self, commands: Sequence[tuple[Any, Idempotency | None]]
    ) -> list[Outcome[Any] | ChronicleError]:
        """Run ``(command, idempotency)`` pairs together; each one's outcome or domain error."""
        return self.executor.execute_each(commands, metadata=self.metadata)


async def _command_context(
    request: Request,
    principal: Annotated[Principal, Depends(get_principal)],
    executor: ExecutorDep,
    idempotency_key: Annotated[
        str | None,
        Header(description="Repeat a POST with the same key to get its first response back."),
    ] = None,
) -> CommandContext:
    return await command_context(request, executor, principal.actor, idempotency_key)


async def command_context(
    request: Request,
    executor: CommandExecutor,
    actor: str,
    idempotency_key: str | None,
    *,
    scope: str | None = None,
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
        return CommandContext(metadata, None, executor)
    if not 1 <= len(idempotency_key) <= 200 or not idempotency_key.isprintable():
        raise InvalidCommand("Idempotency-Key must be 1 to 200 printable characters")
    body = await request.body()
    fingerprint = hashlib.sha256(
        b"\n".join([request.method.encode(), request.url.path.encode(), body])
    ).hexdigest()
    metadata["causation_id"] = f"idempotency-key:{idempotency_key}"
    key = f"{scope or actor}:{idempotency_key}"
    return CommandContext(metadata, Idempotency(key, fingerprint), executor)


Command = Annotated[CommandContext, Depends(_command_context)]


def user_id_of(principal: Principal) -> uuid.UUID:
    """The user id a user token is for."""
    try:
        return uuid.UUID(principal.subject)
    except ValueError:
        raise Unauthenticated("the token's subject is not a user id") from None


def existing_test(
    saved: Aggregates, test_id: uuid.UUID, *, deleted_too: bool = False
) -> TestDocument:
    """The test as last saved (not deleted, unless ``deleted_too``), else NotFound."""
    test = saved.find(TestDocument, test_id)
    if test is None or (test.deleted and not deleted_too):
        raise NotFound(f"test {test_id} not found")
    return test
