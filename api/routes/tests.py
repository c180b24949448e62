"""The personality-test site's public API: list and search tests, open one, compute a result."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/tests", tags=["tests"])
