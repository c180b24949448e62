"""Admins edit personality tests: create, save with If-Match, images, publish, status, stats."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/admin/tests", tags=["test admin"])
