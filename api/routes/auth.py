"""Anonymous sign-up."""

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from api.deps import CommandContext, ExecutorDep, SettingsDep, TokensDep, command_context
from api.schemas.users import AnonSession
from domain.commands.usercredits import OpenAccount

router = APIRouter(tags=["auth"])


@dataclass(frozen=True)
class SignUp:
    user_id: uuid.UUID
    context: CommandContext


async def _sign_up(
    request: Request,
    executor: ExecutorDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> SignUp:
    user_id = uuid.uuid4()
    actor = f"user:{user_id}"
    context = await command_context(request, executor, actor, idempotency_key, scope="anon")
    return SignUp(user_id, context)


@router.post("/auth/anon", response_model=AnonSession, status_code=201)
def create_anonymous_user(
    sign_up: Annotated[SignUp, Depends(_sign_up)], settings: SettingsDep, tokens: TokensDep
) -> AnonSession:
    """Create an anonymous user on the free plan with the signup credits; return its token.

    With an `Idempotency-Key`, a repeat returns the same user (with a fresh token).
    """
    outcome = sign_up.context.run(OpenAccount(sign_up.user_id, "free", settings.signup_credits))
    user_id = uuid.UUID(outcome.record["user_id"])  # a repeat: the first sign-up's user
    position = outcome.position or 0
    token = tokens.issue(str(user_id), "user", position=position)
    return AnonSession(token=token, user_id=user_id, position=position)
