"""Liveness and readiness probes for container orchestrators (Docker HEALTHCHECK, compose, k8s).

Not part of the intake v2 contract, so they stay out of the served OpenAPI document.
"""

import asyncio
import hmac

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from intake_service.api.deps import get_state
from intake_service.errors import MetadataStoreUnavailable, TelemetryUnavailable, unavailable_response
from intake_service.store.postgres.engine import ping

router = APIRouter(include_in_schema=False)

READY_TIMEOUT_SECONDS = 5.0


@router.get("/health/live")
async def live(request: Request) -> JSONResponse:
    """The process answers HTTP; says nothing about the stores, except that it fails once the
    embedded PostgreSQL is dead for good (restarting the process is then the way out)."""
    watchdog = get_state(request).postgres_watchdog
    if watchdog is not None and watchdog.failed:
        return JSONResponse({"detail": "The embedded PostgreSQL could not be restarted."}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/health/ready")
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


@router.get("/metrics", include_in_schema=False)
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
