"""The intake errors: each carries its HTTP status and one sentence; the handlers here render them.

Every error the domain and the stores raise is defined here, grouped by resource, so a name is
defined once (tests/test_error_names.py). The ML-workbench API has its own
(domain/workbench/errors.py); names are unique across both.
"""

import math
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException


class DomainError(Exception):
    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


# Experiments


class ExperimentNotFound(DomainError):
    status_code = 404

    def __init__(self, workspace: str, name: str) -> None:
        super().__init__(f"Experiment '{workspace}/{name}' not found.")


class NameTaken(DomainError):
    status_code = 409

    def __init__(self, workspace: str, name: str) -> None:
        super().__init__(f"Experiment '{workspace}/{name}' already exists.")


class UnknownExperiment(DomainError):
    """An ingest naming an experiment that is not live."""

    status_code = 400

    def __init__(self, name: str, deleted: bool = False) -> None:
        super().__init__(
            f"Experiment '{name}' has been deleted and cannot accept new sessions."
            if deleted
            else f"Experiment '{name}' must be created before it can be logged."
        )


# Experiment groups


class GroupNotFound(DomainError):
    status_code = 404
    noun = "Experiment group"

    def __init__(self, workspace: str, name: str) -> None:
        super().__init__(f"{self.noun} '{workspace}/{name}' not found.")


class GroupNameTaken(DomainError):
    status_code = 409
    noun = "Experiment group"

    def __init__(self, workspace: str, name: str) -> None:
        super().__init__(f"{self.noun} '{workspace}/{name}' already exists.")


class GroupRenamed(DomainError):
    status_code = 409
    noun = "an experiment group"

    def __init__(self) -> None:
        super().__init__(f"Cannot rename {self.noun}; the name is its identity.")


# The same groups as SDK 0.4+ containers (/experiments under /nemo-0.4), in that generation's words.


class ContainerNotFound(GroupNotFound):
    noun = "Experiment"


class ContainerNameTaken(GroupNameTaken):
    noun = "Experiment"


class ContainerRenamed(GroupRenamed):
    noun = "an experiment"


class BaselineInUse(DomainError):
    """An evaluation may not leave (by delete or a new membership) a container whose baseline it is."""

    status_code = 409

    def __init__(self, evaluation: str, container: str) -> None:
        super().__init__(
            f"Evaluation '{evaluation}' is the baseline for Experiment '{container}'. Clear that Experiment's "
            "baseline_evaluation_name before removing the membership or deleting the Evaluation."
        )


# Evaluator results


class EvaluatorResultNotFound(DomainError):
    status_code = 404

    def __init__(self, evaluator_result_id: str) -> None:
        super().__init__(f"Evaluator result '{evaluator_result_id}' not found.")


class ImmutableFieldChanged(DomainError):
    status_code = 409

    def __init__(self, fields: list[str]) -> None:
        super().__init__(
            f"Cannot change immutable field(s) {fields} on an existing experiment; "
            "create a new experiment instead."
        )


# Evaluations


class EvaluationNotFound(DomainError):
    status_code = 404

    def __init__(self, workspace: str, name: str) -> None:
        super().__init__(f"Evaluation '{workspace}/{name}' not found.")


class EvaluationNameTaken(DomainError):
    status_code = 409

    def __init__(self, workspace: str, name: str) -> None:
        super().__init__(f"Evaluation '{workspace}/{name}' already exists.")


class EvaluationFieldImmutable(DomainError):
    status_code = 409

    def __init__(self, fields: list[str]) -> None:
        super().__init__(
            f"Cannot change immutable field(s) {fields} on an existing evaluation; "
            "create a new evaluation instead."
        )


# Lists: a sort, filter or group-by a list cannot apply (evaluations and the telemetry reads)


class BadListQuery(DomainError):
    """400 with one sentence (the SDK 0.3.0 rule for these lists)."""

    status_code = 400


# Telemetry reads


class SessionNotFound(DomainError):
    status_code = 404

    def __init__(self, workspace: str, session_id: str) -> None:
        super().__init__(f"Session '{workspace}/{session_id}' not found.")


class TraceNotFound(DomainError):
    status_code = 404

    def __init__(self, workspace: str, trace_id: str) -> None:
        super().__init__(f"Trace '{workspace}/{trace_id}' not found.")


class SpanNotFound(DomainError):
    status_code = 404

    def __init__(self, workspace: str, span_id: str) -> None:
        super().__init__(f"Span '{workspace}/{span_id}' not found.")


class AnnotationNotFound(DomainError):
    status_code = 404

    def __init__(self, workspace: str, annotation_id: str) -> None:
        super().__init__(f"Annotation '{workspace}/{annotation_id}' not found.")


# Request bodies (ingest formats, browser posts)


class UnsupportedMediaType(DomainError):
    status_code = 415


class MalformedBody(DomainError):
    status_code = 400


class PayloadTooLarge(DomainError):
    status_code = 413


# Auth: API keys and the caller


class Unauthenticated(DomainError):
    status_code = 401
    headers = {"WWW-Authenticate": 'Bearer realm="intake-service", ApiKey header="X-API-Key"'}


class Forbidden(DomainError):
    status_code = 403


class KeyNameTaken(DomainError):
    status_code = 409

    def __init__(self, name: str) -> None:
        super().__init__(f"An API key named '{name}' already exists.")


class KeyNotFound(DomainError):
    status_code = 404

    def __init__(self, name: str) -> None:
        super().__init__(f"API key '{name}' not found.")


# Artifacts


class ArtifactPathRefused(DomainError):
    """The local store cannot hold the path as given; the path, not the store, is at fault."""

    def __init__(self, status_code: int, problem: str) -> None:
        super().__init__(f"The artifact path {problem}.")
        self.status_code = status_code


# Stores


class Store(StrEnum):
    """The stores a request can find unavailable; the value is the `store` label of
    intake_store_errors_total."""

    METADATA = "postgresql"
    TELEMETRY = "clickhouse"
    ARTIFACTS = "artifacts"


_UNAVAILABLE = {
    Store.METADATA: "Metadata store unavailable.",
    Store.TELEMETRY: "Telemetry store unavailable.",
    Store.ARTIFACTS: "Artifact store unavailable.",
}


class StoreUnavailable(DomainError):
    """A 503 because `store` could not answer."""

    status_code = 503

    def __init__(self, store: Store) -> None:
        super().__init__(_UNAVAILABLE[store])
        self.store = store


class MetadataStoreUnavailable(StoreUnavailable):
    def __init__(self) -> None:
        super().__init__(Store.METADATA)


class TelemetryUnavailable(StoreUnavailable):
    def __init__(self) -> None:
        super().__init__(Store.TELEMETRY)


class ArtifactStoreUnavailable(StoreUnavailable):
    def __init__(self) -> None:
        super().__init__(Store.ARTIFACTS)


def validation_error(loc: list[str | int], value: Any, message: str) -> RequestValidationError:
    """A problem found after parsing, rendered in FastAPI's 422 shape with a `loc`."""
    return RequestValidationError([{"loc": loc, "msg": message, "type": "value_error", "input": value}])


def query_error(param: str, value: Any, message: str) -> RequestValidationError:
    return validation_error(["query", param], value, message)


_FAILED_STORE = "failed_store"


def failed_store(scope_state: dict[str, Any]) -> Store | None:
    """The store a request's 503 was about, as its error handler recorded it in the request state."""
    return scope_state.get(_FAILED_STORE)


def unavailable_response(request: Request, exc: StoreUnavailable) -> JSONResponse:
    """The 503 of `exc`. Its store goes into the request state (the scope's) for the metrics
    middleware, which sees only the response."""
    setattr(request.state, _FAILED_STORE, exc.store)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)


async def _domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if isinstance(exc, StoreUnavailable):
        return unavailable_response(request, exc)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


# An echoed `input` is cut below this depth: the encoders that follow recurse, and a caller may send
# JSON nested hundreds of levels (which then fails as a RecursionError, a 500).
MAX_ECHO_DEPTH = 32
TOO_DEEP_TO_ECHO = "(nested too deep to echo)"


def _within_depth(value: Any, depth: int = 0) -> Any:
    if not isinstance(value, dict | list | tuple):
        return value
    if depth >= MAX_ECHO_DEPTH:
        return TOO_DEEP_TO_ECHO
    if isinstance(value, dict):
        return {k: _within_depth(v, depth + 1) for k, v in value.items()}
    return [_within_depth(v, depth + 1) for v in value]


def _renderable(value: Any) -> Any:
    """An echoed `input` that JSON can carry: lone surrogates replaced, NaN/Infinity as text."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {_renderable(k): _renderable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_renderable(v) for v in value]
    return value


def validation_response(exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 shape, safe for any input the caller sent (the default handler fails on some)."""
    return JSONResponse({"detail": _renderable(jsonable_encoder(_within_depth(exc.errors())))}, status_code=422)


async def _validation_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_response(exc)


# FastAPI's answer to a JSON body it cannot even decode (not UTF-8). The intake v2 contract makes
# every body problem a 422 in the validation shape; other APIs of the app keep their own conventions.
BODY_PARSE_ERROR = "There was an error parsing the body"
INTAKE_V2_PREFIXES = ("/apis/intake/v2/", "/nemo-0.4/apis/intake/v2/")


async def _http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR and request.url.path.startswith(INTAKE_V2_PREFIXES):
        return await _validation_error_handler(
            request, validation_error(["body"], None, "The body is not valid JSON (it must be UTF-8).")
        )
    return await http_exception_handler(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
