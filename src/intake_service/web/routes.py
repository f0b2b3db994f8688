"""Page routes (out of the OpenAPI document): the HTML shells, and the two JSON answers the pages need
that the API has no route for: who the caller is and which workspaces it may read."""

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from intake_service.api.deps import Caller, ExperimentName, Session, Workspace, get_state
from intake_service.domain import workspaces
from intake_service.store.postgres.workspaces import WorkspaceRepository

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

# The pages load scripts, styles and data from their own origin only; no CDN, no inline script.
CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
UI = "/ui/workspaces/{workspace}"

router = APIRouter(include_in_schema=False)


@cache
def _templates() -> "Jinja2Templates":
    """Loaded by the first page, not at start-up (Jinja2: 0.03 s of a start that serves no page)."""
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=Path(__file__).parent / "templates")


def _page(request: Request, template: str, title: str, **context: Any) -> HTMLResponse:
    auth = get_state(request).settings.auth != "none"
    response = _templates().TemplateResponse(request, template, {"auth": auth, "title": title, **context})
    response.headers["Content-Security-Policy"] = CSP
    return response


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> HTMLResponse:
    """The workspaces the caller may read."""
    return _page(request, "index.html", "Workspaces")


@router.get(UI, response_class=HTMLResponse)
async def workspace_page(request: Request, workspace: Workspace) -> HTMLResponse:
    """A workspace's containers (groups) and runs, favourites and pinned first."""
    return _page(request, "workspace.html", workspace, workspace=workspace)


@router.get(UI + "/containers/{name}", response_class=HTMLResponse)
async def container_page(request: Request, workspace: Workspace, name: ExperimentName) -> HTMLResponse:
    """A container's leaderboard and plots."""
    return _page(request, "container.html", name, workspace=workspace, container=name)


@router.get(UI + "/evaluations/{name}", response_class=HTMLResponse)
async def run_page(request: Request, workspace: Workspace, name: ExperimentName) -> HTMLResponse:
    """A run: its rollups, the distribution of its per-test-case scores, its sessions and their traces."""
    return _page(request, "run.html", name, workspace=workspace, evaluation=name)


@router.get(UI + "/compare", response_class=HTMLResponse)
async def compare_page(request: Request, workspace: Workspace) -> HTMLResponse:
    """Two runs compared (?evaluation=a&baseline=b), per evaluator and for cost, latency and tokens."""
    return _page(request, "compare.html", "Compare", workspace=workspace)


@router.get("/ui/api/me")
async def me(caller: Caller) -> dict[str, Any]:
    """The caller: a 401 without a valid key when auth is on, which is when the pages ask for one."""
    return workspaces.describe(caller)


@router.get("/ui/api/workspaces")
async def readable_workspaces(caller: Caller, session: Session) -> dict[str, Any]:
    """The workspaces holding live groups or runs that the caller may read, with their counts."""
    return {"data": await workspaces.readable(WorkspaceRepository(session), caller)}
