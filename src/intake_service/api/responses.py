"""Declared error responses and the rollup-availability header, shared by the routers."""

from typing import Any

from fastapi import Response

from intake_service.domain.rollups import Hydrated
from intake_service.models.generated import ErrorDetail, ExperimentResponse


def _error(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorDetail, "description": description}}


BAD_REQUEST = _error(400, "Bad request")
NOT_FOUND = _error(404, "Not found")
CONFLICT = _error(409, "Conflict")
TOO_LARGE = _error(413, "Request too large")
UNAVAILABLE = _error(503, "A store is unavailable")


def rollup_header(response: Response, hydrated: Hydrated) -> ExperimentResponse:
    """The single experiment of `hydrated`, marking the response when its rollups are unavailable."""
    if not hydrated.available:
        response.headers["X-Intake-Rollups"] = "unavailable"
    return hydrated.experiments[0]
