"""Who the caller is in the ML-workbench API, which workspace it works in, and what it may see."""

import re
from dataclasses import dataclass

from intake_service.domain.auth import ADMIN, ALL_WORKSPACES, Principal
from intake_service.domain.workbench.errors import InvalidInput, NotOwner
from intake_service.errors import Forbidden
from intake_service.store.postgres.tables import WorkbenchExperiment

DEFAULT_WORKSPACE = "default"
ANONYMOUS_OWNER = "anonymous"
WORKSPACE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


@dataclass(frozen=True)
class Viewer:
    """The caller inside one workspace. An admin sees and may change every experiment of it."""

    workspace: str
    name: str
    admin: bool

    @property
    def visibility(self) -> str | None:
        """The principal whose view applies, or None for an admin (sees everything)."""
        return None if self.admin else self.name

    def may_see(self, experiment: WorkbenchExperiment) -> bool:
        return (
            self.admin
            or experiment.owner == self.name
            or experiment.is_public
            or self.name in (experiment.shared_with or [])
        )

    def check_may_change(self, experiment: WorkbenchExperiment) -> None:
        if not (self.admin or experiment.owner == self.name):
            raise NotOwner(experiment.id)


def viewer_for(principal: Principal, organization_header: str | None) -> Viewer:
    """organizationId is the caller's only workspace, else the X-Organization-Id header, else 'default'."""
    own = sorted(principal.workspaces - {ALL_WORKSPACES})
    if len(own) == 1 and ALL_WORKSPACES not in principal.workspaces:
        workspace = own[0]
    elif organization_header is not None:
        workspace = organization_header.strip()
        if not WORKSPACE_PATTERN.match(workspace):
            raise InvalidInput(
                "X-Organization-Id must be 1-63 characters of a-z, 0-9, '.', '_' or '-', "
                "starting with a letter or digit."
            )
    else:
        workspace = DEFAULT_WORKSPACE
    # Same answer as intake v2, whether the workspace exists or not (the scope was checked per route).
    if not principal.may_use(workspace):
        raise Forbidden(f"This API key may not access workspace '{workspace}'.")
    return Viewer(workspace, principal.name or ANONYMOUS_OWNER, principal.has_scope(ADMIN))
