"""create_app(settings): the FastAPI application factory."""

from fastapi import Depends, Request
from fastapi_offline import FastAPIOffline

from intake_service import __version__
from intake_service.api import health
from intake_service.api.browser import CrossOriginGuard, is_loopback, require_documented_media_type
from intake_service.api.guards import refuse_nul
from intake_service.api.methods import method_not_allowed, refuse_template_methods_on_fixed_paths
from intake_service.api.middleware import BodyLimitMiddleware, Metrics, ObservabilityMiddleware
from intake_service.api.nemo_docs import add_nemo_04_docs
from intake_service.api.openapi import TAGS, complete_openapi, nemo_04_openapi
from intake_service.api.router import dispatch_by_first_segment, include_api
from intake_service.api.workbench.routing import ARTIFACT_UPLOAD_MAX_BODY, ARTIFACT_UPLOAD_PATH
from intake_service.errors import install_error_handlers
from intake_service.lifespan import lifespan_for
from intake_service.settings import Settings
from intake_service.web import install_pages


async def guard_request(request: Request) -> None:
    """What every route refuses before its own dependencies run, in this order. One dependency for
    the three: FastAPI's resolution costs each dependency some 15 µs of CPU per request."""
    await refuse_nul(request)
    await require_documented_media_type(request)
    await refuse_template_methods_on_fixed_paths(request)


def create_app(settings: Settings):
    metrics = Metrics()
    # FastAPIOffline serves the Swagger UI and ReDoc assets from the installed package, not a CDN.
    app = FastAPIOffline(
        title="intake-service",
        version=__version__,
        description="NeMo intake v2 experiments API with exact rollups, and the ML-workbench API.",
        openapi_tags=TAGS,
        lifespan=lifespan_for(settings, metrics),
        dependencies=[Depends(guard_request)],
    )
    install_error_handlers(app)
    if settings.auth == "none":
        app.add_middleware(CrossOriginGuard, bound_to_loopback=is_loopback(settings.host))
    app.add_exception_handler(405, method_not_allowed)
    # Added last = outermost: every response, 413s included, gets an id, a log line and metrics.
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        timeout=settings.body_timeout_seconds,
        # A 25 MiB artifact is about 33.4 MiB of base64, beyond the default limit.
        path_limits=[(ARTIFACT_UPLOAD_PATH, max(settings.max_body_bytes, ARTIFACT_UPLOAD_MAX_BODY))],
    )
    app.add_middleware(ObservabilityMiddleware, metrics=metrics)
    include_api(app)
    app.include_router(health.router)

    # The pages (/ and /ui/...): a person who opens the bare address lands on the workspaces.
    install_pages(app)
    app.openapi = complete_openapi(app, auth=settings.auth != "none")  # type: ignore[method-assign]
    add_nemo_04_docs(app, nemo_04_openapi(app, auth=settings.auth != "none"))
    dispatch_by_first_segment(app)
    return app
