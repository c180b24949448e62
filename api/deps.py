"""Dependencies shared by routes: services, the caller, command context, read-your-writes."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Query, Request

from api.auth import Principal
from api.bootstrap import Services
from domain.errors import InvalidCommand, NotFound, ProjectionBehind, Unauthenticated
from eventstore.executor import Outcome
from eventstore.idempotency import Idempotency
from projections.queries import log_head

T = TypeVar("T")


def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_principal(
    services: ServicesDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    if not authorization:
        raise Unauthenticated("an 'Authorization: Bearer <token>' header is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return services.tokens.verify(token.strip())


def _role(role: str) -> Any:
    def require(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
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

MinPosition = Annotated[
    int | None,
    Query(
        ge=1,
        description="Answer only once the read model reached this log position "
        "(the `position` of a command's response); 503 if it did not in time.",
    ),
]


def user_id_of(principal: Principal) -> uuid.UUID:
    """The user id a user token is for."""
    try:
        return uuid.UUID(principal.subject)
    except ValueError:
        raise Unauthenticated("the token's subject is not a user id") from None


def find_or_not_found(
    services: Services, names: list[str], find: Callable[[], T | None], what: str
) -> T:
    """``find()``, or once more after the projections caught up with the log; else NotFound.

    What a client just created may not be projected yet: "not found" means not found as
    of the newest event, which costs one bounded wait only when the row is missing.
    """
    found = find()
    if found is None:
        wait_for(services, names, log_head(services.reads))
        found = find()
    if found is None:
        raise NotFound(f"{what} not found")
    return found


def wait_for(services: Services, names: list[str], position: int | None) -> None:
    """Block until the projections ``names`` reached ``position`` (bounded), or raise."""
    if not position:
        return
    timeout = services.settings.read_wait_seconds
    if not services.watcher.wait_for_position(names, position, timeout):
        raise ProjectionBehind(
            f"{', '.join(names)} did not reach log position {position} within {timeout:g}s; "
            "retry shortly"
        )
