"""Anonymous sign-up."""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from api.deps import CommandContext, ServicesDep, command_context
from api.schemas.users import AnonSession
from domain.commands.usercredits import OpenAccount

router = APIRouter(tags=["auth"])


@dataclass(frozen=True)
class SignUp:
    user_id: uuid.UUID
    context: CommandContext


async def _sign_up(
    request: Request, idempotency_key: Annotated[str | None, Header()] = None
) -> SignUp:
    user_id = uuid.uuid4()
    context = await command_context(request, f"user:{user_id}", idempotency_key, scope="anon")
    return SignUp(user_id, context)


@router.post("/auth/anon", response_model=AnonSession, status_code=201)
def create_anonymous_user(
    services: ServicesDep, sign_up: Annotated[SignUp, Depends(_sign_up)]
) -> AnonSession:
    """Create an anonymous user on the free plan with the signup credits; return its token.

    With an `Idempotency-Key`, a repeat returns the same user (with a fresh token).
    """
    command = OpenAccount(sign_up.user_id, "free", services.settings.signup_credits)
    outcome = sign_up.context.run(services, command, present=AnonSession.present)
    user_id = uuid.UUID(outcome.result["user_id"])
    position = outcome.position or 0
    token = services.tokens.issue(str(user_id), "user", position=position)
    return AnonSession(token=token, user_id=user_id, position=position)
