"""Admin operations on users: grant credits, change plan, read the summary and the ledger."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from api.deps import AdminPrincipal, Command, QuotasDep
from api.reads import BIGINT_MAX, ReadsDep, caught_up
from api.schemas.users import CreditGrant, CreditsChanged, LedgerEntry, PlanChange, UserSummary
from domain.commands.usercredits import ChangePlan, GrantCredits
from domain.quotas import today
from projections.usercredits.queries import get_user_summary, list_ledger

router = APIRouter(prefix="/admin/users", tags=["admin"])


@router.post("/{user_id}/credits", response_model=CreditsChanged)
def grant_credits(
    user_id: UUID, body: CreditGrant, _: AdminPrincipal, command: Command
) -> CreditsChanged:
    """Grant credits to a user, with a reason kept in the ledger."""
    return CreditsChanged.from_outcome(command.run(GrantCredits(user_id, body.amount, body.reason)))


@router.put("/{user_id}/plan", response_model=CreditsChanged)
def change_plan(
    user_id: UUID, body: PlanChange, _: AdminPrincipal, command: Command
) -> CreditsChanged:
    """Move a user to another plan; reservations and rules already held are kept."""
    return CreditsChanged.from_outcome(command.run(ChangePlan(user_id, body.plan)))


@router.get("/{user_id}", response_model=UserSummary)
def get_user(
    user_id: UUID,
    _: AdminPrincipal,
    reads: ReadsDep,
    quotas: QuotasDep,
    min_position: Annotated[int | None, caught_up("user_summary")] = None,
) -> UserSummary:
    """A user's summary (read model)."""
    return UserSummary.from_row(get_user_summary(reads.pool, user_id), quotas, today())


@router.get("/{user_id}/ledger", response_model=list[LedgerEntry])
def get_ledger(
    user_id: UUID,
    _: AdminPrincipal,
    reads: ReadsDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=BIGINT_MAX, description="Rows with a smaller id.")
    ] = None,
    min_position: Annotated[int | None, caught_up("credit_ledger")] = None,
) -> list[LedgerEntry]:
    """A user's credit ledger, newest first: grants, reservations, commits, refunds."""
    rows = list_ledger(reads.pool, user_id, limit=limit, before=before)
    return [LedgerEntry.model_validate(r) for r in rows]
