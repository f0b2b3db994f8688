"""Admin routes: API keys. Only keys with intake:admin reach them, and each manages only the keys
whose workspaces lie within its own (domain.auth)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from intake_service.api.deps import Caller, Session, authorize_admin
from intake_service.api.responses import AUTH_ERRORS, BAD_REQUEST, CONFLICT, FORBIDDEN, NOT_FOUND, OffLoopJsonRoute
from intake_service.domain import auth
from intake_service.errors import validation_error
from intake_service.models.generated import ApiKeyCreatedResponse, ApiKeyRequest, ApiKeyResponse
from intake_service.store.postgres.api_keys import ApiKeyRepository

router = APIRouter(
    prefix="/apis/intake/v2/admin/keys",
    tags=["admin"],
    dependencies=[Depends(authorize_admin)],
    responses=AUTH_ERRORS,
    route_class=OffLoopJsonRoute,
)


@router.get("", response_model=list[ApiKeyResponse], operation_id="list-api-keys", summary="List API Keys")
async def list_keys(session: Session, caller: Caller) -> list[ApiKeyResponse]:
    """The keys whose workspaces lie within the caller's, with scopes, workspaces and times; never a secret."""
    rows = await auth.list_keys(ApiKeyRepository(session), caller)
    return [ApiKeyResponse.model_validate(row, from_attributes=True) for row in rows]


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyCreatedResponse,
    responses={**BAD_REQUEST, **FORBIDDEN, **CONFLICT},
    operation_id="create-api-key",
    summary="Create API Key",
    description="The secret is in this response only; the service keeps nothing but its hash.",
)
async def create_key(body: ApiKeyRequest, session: Session, caller: Caller) -> ApiKeyCreatedResponse:
    # Workspace items are RootModels; an explicit null is refused by the model (422), never "all".
    workspaces = [w.root for w in body.workspaces or []]
    for index, workspace in enumerate(workspaces):
        if problem := auth.workspace_problem(workspace):
            raise validation_error(["body", "workspaces", index], workspace, problem)
    row, secret = await auth.create_key(
        ApiKeyRepository(session), body.name, list(body.scopes), workspaces, body.expires_at, caller
    )
    return ApiKeyCreatedResponse(key=ApiKeyResponse.model_validate(row, from_attributes=True), secret=secret)


@router.delete(
    "/{key_name}",
    response_model=ApiKeyResponse,
    responses={**NOT_FOUND},
    operation_id="revoke-api-key",
    summary="Revoke API Key",
)
async def revoke_key(
    key_name: Annotated[str, Path(description="The key's name.")], session: Session, caller: Caller
) -> ApiKeyResponse:
    """Revoke a key by name (one within the caller's workspaces): requests that carry it are refused from then on."""
    row = await auth.revoke_key(ApiKeyRepository(session), key_name, caller)
    return ApiKeyResponse.model_validate(row, from_attributes=True)
