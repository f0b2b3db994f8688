"""Liveness and readiness probes for container orchestrators (Docker HEALTHCHECK, compose, k8s), and
the Prometheus scrape. Documented under the tag "health"; they need no key."""

import asyncio
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from intake_service.api.deps import get_state
from intake_service.errors import MetadataStoreUnavailable, TelemetryUnavailable, unavailable_response
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
    response_class=JSONResponse,
    responses={
        200: {"description": "The process answers", "content": STATUS_OK},
        503: {"description": "The embedded PostgreSQL could not be restarted", "model": ErrorDetail},
    },
)
async def live(request: Request) -> JSONResponse:
    """The process answers HTTP; says nothing about the stores, except that it fails once the
    embedded PostgreSQL is dead for good (restarting the process is then the way out)."""
    watchdog = get_state(request).postgres_watchdog
    if watchdog is not None and watchdog.failed:
        return JSONResponse({"detail": "The embedded PostgreSQL could not be restarted."}, status_code=503)
    return JSONResponse({"status": "ok"})


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
    state = get_state(request)
    try:
        await ping(state.sessionmaker, READY_TIMEOUT_SECONDS)
    except Exception:  # any failure to reach the store means "not ready", never a 500
        return unavailable_response(request, MetadataStoreUnavailable())
    try:
        await asyncio.wait_for(state.telemetry.ping(), READY_TIMEOUT_SECONDS)
    except Exception:
        return unavailable_response(request, TelemetryUnavailable())
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
        },
        401: {"description": "INTAKE_METRICS_KEY is set and the scrape did not send it", "model": ErrorDetail},
    },
)
async def metrics(request: Request) -> Response:
    """Prometheus text format: requests and latencies by route and status, ingest, store errors.
    With INTAKE_METRICS_KEY set, only a scraper sending it as a Bearer token gets them."""
    key = get_state(request).settings.metrics_key
    if key is not None:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), key.encode()):
            return JSONResponse(
                {"detail": "A valid metrics key is required."}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
    return Response(generate_latest(get_state(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)
