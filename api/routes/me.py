"""The caller's own account."""

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import Principal
from api.deps import QuotasDep, UserPrincipal, in_thread, user_id_of
from api.reads import ReadsDep, caught_up
from api.schemas.users import Me
from domain.quotas import today
from projections.usercredits.queries import get_user_summary

router = APIRouter(tags=["me"])
READ_MODELS = ["user_summary"]


async def _projected_account(principal: UserPrincipal, reads: ReadsDep) -> Principal:
    """The caller, once their account (created at the token's position) is in the read model."""
    await reads.reach(READ_MODELS, principal.position, check_head=False)
    return principal


@router.get("/me", response_model=Me)
@in_thread
def get_me(
    principal: Annotated[Principal, Depends(_projected_account)],
    reads: ReadsDep,
    quotas: QuotasDep,
    min_position: Annotated[int | None, caught_up(*READ_MODELS)] = None,
) -> Me:
    """The caller's plan, credits, reservations, rule slots and today's usage of its quotas."""
    return Me.from_row(get_user_summary(reads.pool, user_id_of(principal)), quotas, today())
