"""Job presets (configuration, not events)."""

from fastapi import APIRouter

from api.deps import PresetsDep
from api.schemas.jobs import PresetView

router = APIRouter(tags=["jobs"])


@router.get("/presets", response_model=list[PresetView])
def list_presets(presets: PresetsDep) -> list[PresetView]:
    """The job types: credit cost per item and the most items a job may have."""
    return [PresetView(**vars(p)) for p in presets.all()]
