"""The /nemo-0.4 mount's own OpenAPI document, Swagger UI and ReDoc pages, beside the root's /docs;
both pages load the same offline assets (fastapi_offline's, under /static-offline-docs)."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from intake_service.api.router import NEMO_04

STATIC = "/static-offline-docs"


def add_nemo_04_docs(app: FastAPI, openapi: Callable[[], dict[str, Any]]) -> None:
    document_url = f"{NEMO_04}/openapi.json"

    @app.get(NEMO_04, include_in_schema=False)
    @app.get(f"{NEMO_04}/", include_in_schema=False)
    async def nemo_04_root() -> RedirectResponse:
        """Whoever opens the base_url of SDK 0.4+ lands on that mount's API docs."""
        return RedirectResponse(f"{NEMO_04}/docs")

    @app.get(document_url, include_in_schema=False)
    async def nemo_04_openapi_json() -> JSONResponse:
        return JSONResponse(openapi())

    @app.get(f"{NEMO_04}/docs", include_in_schema=False)
    async def nemo_04_swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=document_url,
            title=f"{app.title} /nemo-0.4 - Swagger UI",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon.png",
        )

    @app.get(f"{NEMO_04}/redoc", include_in_schema=False)
    async def nemo_04_redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=document_url,
            title=f"{app.title} /nemo-0.4 - ReDoc",
            redoc_js_url=f"{STATIC}/redoc.standalone.js",
            with_google_fonts=False,
            redoc_favicon_url=f"{STATIC}/favicon.png",
        )
