"""Prometheus metrics (text format), for loopback clients unless ``metrics_public`` is set."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException

from api.deps import MetricsDep, SettingsDep
from api.metrics import is_loopback

router = APIRouter(tags=["operations"])


@router.get("/metrics", response_class=Response, include_in_schema=False)
def serve_metrics(request: Request, settings: SettingsDep, metrics: MetricsDep) -> Response:
    """Commands, HTTP requests, projections and reactors, dead letters (Prometheus text)."""
    host = request.client.host if request.client else None
    if not (settings.metrics_public or is_loopback(host)):
        # The same 404 as an unknown path: a remote caller learns nothing about the endpoint.
        raise HTTPException(404)
    body = generate_latest(metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
