"""The caller's own account."""

import uuid

from fastapi import APIRouter

from api.deps import MinPosition, ServicesDep, UserPrincipal, wait_for
from api.schemas.users import Me
from domain.errors import Unauthenticated
from projections.queries import get_user_summary

router = APIRouter(tags=["me"])


@router.get("/me", response_model=Me)
def get_me(principal: UserPrincipal, services: ServicesDep, min_position: MinPosition = None) -> Me:
    """The caller's plan, credits, reservations and rule slots."""
    wait_for(services, ["user_summary"], max(min_position or 0, principal.position))
    return Me.model_validate(get_user_summary(services.reads, _user_id(principal.subject)))


def _user_id(subject: str) -> uuid.UUID:
    try:
        return uuid.UUID(subject)
    except ValueError:
        raise Unauthenticated("the token's subject is not a user id") from None
