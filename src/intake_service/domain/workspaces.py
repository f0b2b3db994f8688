"""What the pages may show a caller: the workspaces it may read, and whether it may write there."""

from dataclasses import asdict
from typing import Any

from intake_service.domain import auth
from intake_service.store.postgres.workspaces import WorkspaceRepository


def may_read(caller: auth.Principal) -> bool:
    return caller.has_scope(auth.READ)


def may_write(caller: auth.Principal) -> bool:
    return caller.has_scope(auth.WRITE)


def describe(caller: auth.Principal) -> dict[str, Any]:
    """The caller as the pages need it: its name, whether it reads and writes intake data, and where
    ('*' for every workspace)."""
    return {
        "name": caller.name,
        "read": may_read(caller),
        "write": may_write(caller),
        "workspaces": sorted(caller.workspaces),
    }


async def readable(repo: WorkspaceRepository, caller: auth.Principal) -> list[dict[str, Any]]:
    """The workspaces holding live groups or runs that `caller` may read; none without intake:read."""
    if not may_read(caller):
        return []
    only = None if auth.ALL_WORKSPACES in caller.workspaces else caller.workspaces
    return [asdict(row) for row in await repo.counts(only)]
