"""The caller's own account."""

from fastapi import APIRouter

from api.deps import MinPosition, ServicesDep, UserPrincipal, user_id_of, wait_for
from api.schemas.users import Me
from projections.queries import get_user_summary

router = APIRouter(tags=["me"])


@router.get("/me", response_model=Me)
def get_me(principal: UserPrincipal, services: ServicesDep, min_position: MinPosition = None) -> Me:
    """The caller's plan, credits, reservations and rule slots."""
    wait_for(services, ["user_summary"], max(min_position or 0, principal.position))
    return Me.model_validate(get_user_summary(services.reads, user_id_of(principal)))
