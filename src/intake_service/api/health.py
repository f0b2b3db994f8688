"""Liveness and readiness probes for container orchestrators (Docker HEALTHCHECK, compose, k8s).

Not part of the intake v2 contract, so they stay out of the served OpenAPI document.
"""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(prefix="/health", include_in_schema=False)

READY_TIMEOUT_SECONDS = 5.0


@router.get("/live")
async def live() -> dict[str, str]:
    """The process answers HTTP; says nothing about the stores."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """200 when PostgreSQL answers `SELECT 1`, else 503 in the contract's error shape."""
    try:
        async with request.state.state.sessionmaker() as session:
            await asyncio.wait_for(session.execute(text("SELECT 1")), READY_TIMEOUT_SECONDS)
    except Exception:  # any failure to reach the store means "not ready", never a 500
        return JSONResponse({"detail": "Metadata store unavailable."}, status_code=503)
    return JSONResponse({"status": "ok"})
