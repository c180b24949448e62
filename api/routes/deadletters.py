"""Reactors' dead letters, for admins: list them, and retry one."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import AdminPrincipal, PrimaryDep
from api.reads import ReadsDep
from api.schemas.deadletters import DeadLetter, DeadLetterState
from projections.engine.deadletters import OPEN, list_dead_letters, request_retry

router = APIRouter(prefix="/admin/dead-letters", tags=["admin"])
LetterId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("", response_model=list[DeadLetter])
def list_letters(
    _: AdminPrincipal,
    reads: ReadsDep,
    reactor: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    state: Annotated[
        DeadLetterState | None, Query(description="Default: every state but delivered.")
    ] = None,
    after: Annotated[int, Query(ge=0, le=2**63 - 1, description="Letters with a larger id.")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeadLetter]:
    """Dead letters, oldest first: parked events, and the events waiting behind them."""
    states = (state,) if state else OPEN
    rows = list_dead_letters(reads.pool, reactor=reactor, states=states, after=after, limit=limit)
    return [DeadLetter.model_validate(r) for r in rows]


@router.post("/{letter_id}/retry", response_model=DeadLetter, status_code=202)
def retry_letter(letter_id: LetterId, _: AdminPrincipal, primary: PrimaryDep) -> DeadLetter:
    """Deliver a parked event again, then the events waiting behind it, in order."""
    return DeadLetter.model_validate(request_retry(primary, letter_id))
