"""Test images from the object store, by content-hash key, cacheable forever."""

from fastapi import APIRouter

router = APIRouter(prefix="/assets", tags=["assets"])
