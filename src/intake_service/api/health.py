"""Liveness and readiness probes for container orchestrators (Docker HEALTHCHECK, compose, k8s), and
the Prometheus scrape. Documented under the tag "health"; they need no key."""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from intake_service.models.generated import ErrorDetail
from intake_service.store.postgres.engine import ping

router = APIRouter(tags=["health"])
STATUS = {"type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"]}
STATUS_OK = {"application/json": {"schema": STATUS, "example": {"status": "ok"}}}
NOT_READY = {
    "description": "A store does not answer",
    "content": {"application/json": {"example": {"detail": "Telemetry store unavailable."}}},
}

READY_TIMEOUT_SECONDS = 5.0


@router.get(
    "/health/live",
    operation_id="health-live",
    summary="Liveness",
    responses={200: {"description": "The process answers", "content": STATUS_OK}},
)
async def live() -> dict[str, str]:
    """The process answers HTTP; says nothing about the stores."""
    return {"status": "ok"}


@router.get(
    "/health/ready",
    operation_id="health-ready",
    summary="Readiness",
    response_class=JSONResponse,
    responses={
        200: {"description": "Both stores answer", "content": STATUS_OK},
        503: {"model": ErrorDetail, **NOT_READY},
    },
)
async def ready(request: Request) -> JSONResponse:
    """200 when both stores answer, else 503 in the contract's error shape."""
    state = request.state.state
    try:
        await ping(state.sessionmaker, READY_TIMEOUT_SECONDS)
    except Exception:  # any failure to reach the store means "not ready", never a 500
        return JSONResponse({"detail": "Metadata store unavailable."}, status_code=503)
    try:
        await asyncio.wait_for(state.telemetry.ping(), READY_TIMEOUT_SECONDS)
    except Exception:
        return JSONResponse({"detail": "Telemetry store unavailable."}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format",
            "content": {
                CONTENT_TYPE_LATEST: {
                    "schema": {"type": "string"},
                    "example": 'intake_http_requests_total{method="GET",route="/health/live",status="200"} 3.0\n',
                }
            },
        }
    },
)
async def metrics(request: Request) -> Response:
    """Prometheus text format: requests and latencies by route and status, ingest, store errors."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
