"""Liveness and readiness."""

from fastapi import APIRouter

from api.reads import ReadsDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health() -> dict[str, str]:
    """The process is up (no I/O: also the trivial endpoint benchmarks compare against)."""
    return {"status": "ok"}


@router.get("/health/ready")
def ready(reads: ReadsDep) -> dict[str, object]:
    """The database answers (503 `store_unavailable` when it does not)."""
    with reads.pool.connection() as conn:
        conn.execute("SELECT 1")
    return {"status": "ready"}
