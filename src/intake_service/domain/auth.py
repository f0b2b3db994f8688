"""Who may do what: API keys (hashed, constant-time compared), scopes and workspaces."""

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from intake_service.errors import DomainError, Forbidden, KeyNameTaken, KeyNotFound, Unauthenticated
from intake_service.store.postgres.api_keys import ApiKeyRepository
from intake_service.store.postgres.tables import ApiKey

READ, WRITE, ADMIN = "intake:read", "intake:write", "intake:admin"
WORKBENCH_READ, WORKBENCH_WRITE = "ml-workbench:read", "ml-workbench:write"
SCOPES = (READ, WRITE, ADMIN, WORKBENCH_READ, WORKBENCH_WRITE)
ALL_WORKSPACES = "*"
TOKEN_PREFIX = "isk"
# JWT principals are "jwt:<sub>"; a key name never holds ":", so a token can never act as a key.
JWT_PRINCIPAL_PREFIX = "jwt:"
LAST_USED_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class Principal:
    """The caller. With auth off it is anonymous and may do everything."""

    name: str | None
    scopes: frozenset[str] = field(default_factory=lambda: frozenset(SCOPES))
    workspaces: frozenset[str] = field(default_factory=lambda: frozenset({ALL_WORKSPACES}))

    def has_scope(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes

    def may_use(self, workspace: str) -> bool:
        return ALL_WORKSPACES in self.workspaces or workspace in self.workspaces

    def may_manage(self, workspaces: Iterable[str]) -> bool:
        """Whether a key for `workspaces` lies within this caller's own (only '*' covers '*')."""
        return all(self.may_use(workspace) for workspace in workspaces)

    @property
    def managed_workspaces(self) -> frozenset[str] | None:
        """The workspaces whose keys this caller manages; None for every key."""
        return None if ALL_WORKSPACES in self.workspaces else self.workspaces


ANONYMOUS = Principal(name=None)


def hash_secret(token: str) -> str:
    # The secret has 256 random bits, so one SHA-256 round is enough: nothing to brute-force.
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(key id, token). The key id inside the token finds the row; the rest is the secret."""
    key_id = secrets.token_hex(8)
    return key_id, f"{TOKEN_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def key_id_of(token: str) -> str | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != 16:
        return None
    return parts[1]


def now() -> datetime:
    return datetime.now(UTC)


async def authenticate(repo: ApiKeyRepository, token: str | None) -> Principal:
    if not token:
        raise Unauthenticated("An API key is required: send it as X-API-Key or Authorization: Bearer.")
    key_id = key_id_of(token)
    row = await repo.lookup(key_id) if key_id else None
    # compare_digest runs even for an unknown id, so timing says nothing about which part failed.
    expected = row.secret_hash if row else hash_secret("")
    if not hmac.compare_digest(expected, hash_secret(token)) or row is None:
        raise Unauthenticated("The API key is not valid.")
    moment = now()
    if row.revoked_at is not None:
        raise Unauthenticated("The API key has been revoked.")
    if row.expires_at is not None and row.expires_at <= moment:
        raise Unauthenticated("The API key has expired.")
    # The row just read tells whether the key was used within the interval, when touch would change
    # nothing: most requests then send no UPDATE (about 0.4 ms of CPU, an ORM statement and its round trip).
    if row.last_used_at is None or row.last_used_at < moment - LAST_USED_INTERVAL:
        await repo.touch(row.id, moment, moment - LAST_USED_INTERVAL)
    return Principal(row.name, frozenset(row.scopes), frozenset(row.workspaces))


def is_jwt(token: str) -> bool:
    """Three dot-separated parts; an API key (isk_<id>_<secret>) never holds a dot."""
    return token.count(".") == 2


def verify_jwt(token: str, *, secret: str | None, public_key: str | None, audience: str | None) -> Principal:
    """A JWT from an internal service: HS256 against the shared secret or RS256 against the public key,
    `exp` checked when present and `aud` when an audience is configured. `sub` names the principal
    (as jwt:<sub>), the `scope` claim holds its scopes and the `workspaces` claim its workspaces (a
    list or a space-separated string, '*' for all; none when absent)."""
    keys = {"HS256": secret, "RS256": public_key}
    if not secret and not public_key:
        raise Unauthenticated("JWT bearer tokens are not accepted: no JWT verification key is configured.")
    # Imported at the first token: PyJWT loads OpenSSL through cryptography (18 MB, 70 ms of
    # start-up), which a service without JWT never needs.
    import jwt

    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        raise Unauthenticated("The bearer token is not a valid JWT.") from None
    key = keys.get(algorithm) if isinstance(algorithm, str) else None
    if not key or not isinstance(algorithm, str):
        accepted = " or ".join(name for name, value in keys.items() if value)
        raise Unauthenticated(f"The JWT must be signed with {accepted}.")
    try:
        claims = jwt.decode(
            token, key, algorithms=[algorithm], audience=audience,
            options={"verify_aud": audience is not None, "require": ["sub"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("The JWT has expired.") from None
    except (jwt.InvalidAudienceError, jwt.MissingRequiredClaimError) as exc:
        if isinstance(exc, jwt.MissingRequiredClaimError) and exc.claim != "aud":
            raise Unauthenticated(f"The JWT lacks the '{exc.claim}' claim.") from None
        raise Unauthenticated("The JWT audience is not accepted.") from None
    except jwt.InvalidSignatureError:
        raise Unauthenticated("The JWT signature is not valid.") from None
    except (jwt.PyJWTError, ValueError, TypeError):
        raise Unauthenticated("The JWT is not valid.") from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise Unauthenticated("The JWT 'sub' claim must name the caller.")
    workspaces = _claim_words(claims.get("workspaces"))
    if workspaces is None or any(workspace_problem(workspace) for workspace in workspaces):
        raise Unauthenticated("The JWT 'workspaces' claim must list workspace names, or '*' for all.")
    scopes = _claim_words(claims.get("scope")) or []
    return Principal(JWT_PRINCIPAL_PREFIX + subject, frozenset(scopes), frozenset(workspaces))


def _claim_words(value: object) -> list[str] | None:
    """A claim given as a space-separated string or a list of strings; absent is empty, else None."""
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def authorize(principal: Principal, scope: str, workspace: str | None) -> None:
    if not principal.has_scope(scope):
        raise Forbidden(f"This API key lacks the scope {scope}.")
    # One answer whether the workspace exists or not, so keys cannot probe other tenants.
    if workspace is not None and not principal.may_use(workspace):
        raise Forbidden(f"This API key may not access workspace '{workspace}'.")


KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")
WORKSPACE_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")


def workspace_problem(workspace: str) -> str | None:
    """Why `workspace` cannot be granted: the workspace grammar of the contract, or '*'."""
    if workspace == ALL_WORKSPACES or WORKSPACE_NAME.fullmatch(workspace):
        return None
    return "A workspace is 1-63 characters of a-z 0-9 - _ . starting with a letter or digit, or '*' for all."


def validate_key_request(name: str, scopes: list[str], workspaces: list[str]) -> None:
    if not KEY_NAME.fullmatch(name):
        raise DomainError("A key name is 1-255 characters of A-Z a-z 0-9 - _ . starting with a letter or digit.")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise DomainError(f"Scopes must be some of {', '.join(SCOPES)}; got {unknown or 'none'}.")
    if not workspaces:
        raise DomainError("A key needs at least one workspace, or '*' for all.")
    for workspace in workspaces:
        if problem := workspace_problem(workspace):
            raise DomainError(problem)


def check_grant(grantor: Principal, scopes: Sequence[str], workspaces: Sequence[str]) -> None:
    """A key is never broader than the one that makes it: its scopes and workspaces are the grantor's."""
    for scope in scopes:
        if not grantor.has_scope(scope):
            raise Forbidden(f"This API key may not grant the scope {scope}.")
    for workspace in workspaces:
        if not grantor.may_use(workspace):
            raise Forbidden(f"This API key may not grant workspace '{workspace}'.")


async def list_keys(repo: ApiKeyRepository, viewer: Principal) -> Sequence[ApiKey]:
    """The keys `viewer` manages: those whose workspaces lie within its own."""
    return await repo.list_all(within=viewer.managed_workspaces)


async def create_key(
    repo: ApiKeyRepository,
    name: str,
    scopes: list[str],
    workspaces: list[str],
    expires_at: datetime | None,
    grantor: Principal = ANONYMOUS,
) -> tuple[ApiKey, str]:
    """The stored key and its token; the token is not kept anywhere and cannot be shown again. The
    command line grants as the anonymous principal (every scope and workspace)."""
    validate_key_request(name, scopes, workspaces)
    check_grant(grantor, scopes, workspaces)
    key_id, token = new_token()
    row = await repo.insert(
        id=key_id,
        name=name,
        secret_hash=hash_secret(token),
        scopes=sorted(set(scopes)),
        workspaces=sorted(set(workspaces)),
        expires_at=expires_at,
        created_at=now(),
    )
    if row is None:
        raise KeyNameTaken(name)
    return row, token


async def revoke_key(repo: ApiKeyRepository, name: str, revoker: Principal = ANONYMOUS) -> ApiKey:
    """A key outside the revoker's workspaces is not found, the same answer as one that never was."""
    row = await repo.revoke(name, now(), within=revoker.managed_workspaces)
    if row is None:
        raise KeyNotFound(name)
    return row
