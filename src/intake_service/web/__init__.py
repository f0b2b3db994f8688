"""The pages people look at (workspaces, leaderboards, plots, runs, comparisons), served by the
service itself. Each page is an HTML shell rendered by Jinja2 whose script reads the JSON API in the
browser, with the caller's key when auth is on: a page shows exactly what that key may read. Assets
are the project's own files; nothing is fetched from elsewhere."""

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from intake_service.web.routes import router

STATIC = Path(__file__).parent / "static"
STATIC_PATH = "/ui/static"


def install_pages(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC), name="ui-static")
