"""Access control (issue 5) against a real app with INTAKE_AUTH=api-key on the session's embedded
PostgreSQL and chDB (the same data directory, so the second chDB executor shares the process's one
embedded ClickHouse).

The matrix: every intake v2 endpoint × every kind of caller (API keys in both header conventions,
JWTs as Bearer tokens; admins for every workspace and for one), with the status each must get.
Plus: every route the app serves under the workspace base is guarded (so a new route cannot slip
out of the matrix unguarded), created_by, last_used_at, what is stored for a key, the keys CLI, and
`serve` refusing a non-loopback address with auth off."""

import asyncio
import base64
import hashlib
import json
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
import pytest
from sqlalchemy import select, text

from intake_service.domain import auth
from intake_service.store.postgres.engine import run_in_transaction
from intake_service.store.postgres.tables import ApiKey

from support import cli, client_for, create_experiment, create_key, free_port, workspace_base

RUN = uuid.uuid4().hex[:8]
WS = f"auth-{RUN}"  # the workspace the keys are for; it has experiments
OTHER_WS = f"auth-other-{RUN}"  # another tenant's workspace, which exists too
NEVER_WS = f"auth-never-{RUN}"  # a workspace nothing was ever written to
ADMIN_KEYS = "/apis/intake/v2/admin/keys"
T = "2026-01-01T00:00:00Z"

BAD = ("none", "malformed", "unknown", "revoked", "expired", "jwt-expired")
GOOD = ("read", "write", "other", "admin", "scoped-admin", "jwt-read", "jwt-write", "jwt-other", "jwt-admin")
CREDENTIALS = BAD + GOOD
CONVENTIONS = ("x-api-key", "bearer")
JWT_SECRET = "auth-matrix-secret-of-at-least-32-bytes"
# What a credential acts like in the matrix: a JWT follows the same rules as a key.
ACTS_AS = {"jwt-read": "read", "jwt-write": "write", "jwt-other": "other", "jwt-admin": "scoped-admin"}


def jwt_token(subject: str, scopes: list[str], workspaces: list[str] | str, expires_in: int = 300) -> str:
    claims = {"sub": subject, "scope": " ".join(scopes), "workspaces": workspaces, "exp": int(time.time()) + expires_in}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def headers_for(token: str | None, convention: str) -> dict[str, str]:
    if token is None:
        return {}
    return {"X-API-Key": token} if convention == "x-api-key" else {"Authorization": f"Bearer {token}"}


@dataclass
class Keys:
    tokens: dict[str, str | None]
    names: dict[str, str] = field(default_factory=dict)

    def headers(self, credential: str, convention: str = "x-api-key") -> dict[str, str]:
        return headers_for(self.tokens[credential], convention)


async def key_row(database_url: str, name: str) -> ApiKey:
    async def work(session):
        return (await session.scalars(select(ApiKey).where(ApiKey.name == name))).one()

    return await run_in_transaction(database_url, work)


@pytest.fixture(scope="module")
async def auth_http(settings) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(settings, auth="api-key", jwt_secret=JWT_SECRET) as http:
        yield http


@pytest.fixture(scope="module")
async def keys(settings, auth_http: httpx.AsyncClient) -> Keys:
    admin_name = f"admin-{RUN}"
    admin = await create_key(settings.database_url, admin_name, [auth.ADMIN], ["*"])
    admin_headers = headers_for(admin, "x-api-key")
    names = {"admin": admin_name}
    tokens: dict[str, str | None] = {"admin": admin}

    async def via_api(kind: str, scopes: list[str], workspaces: list[str]) -> str:
        names[kind] = f"{kind}-{RUN}"
        response = await auth_http.post(
            ADMIN_KEYS, headers=admin_headers, json={"name": names[kind], "scopes": scopes, "workspaces": workspaces}
        )
        assert response.status_code == 201, response.text
        return response.json()["secret"]

    tokens["read"] = await via_api("read", [auth.READ], [WS])
    tokens["write"] = await via_api("write", [auth.READ, auth.WRITE], [WS])
    tokens["other"] = await via_api("other", [auth.READ, auth.WRITE], [OTHER_WS])
    tokens["scoped-admin"] = await via_api("scoped-admin", [auth.ADMIN], [WS])
    tokens["jwt-read"] = jwt_token(f"svc-read-{RUN}", [auth.READ], [WS])
    tokens["jwt-write"] = jwt_token(f"svc-write-{RUN}", [auth.READ, auth.WRITE], WS)  # a space-separated string
    tokens["jwt-other"] = jwt_token(f"svc-other-{RUN}", [auth.READ, auth.WRITE], [OTHER_WS])
    tokens["jwt-admin"] = jwt_token(f"svc-admin-{RUN}", [auth.ADMIN], [WS])
    tokens["jwt-expired"] = jwt_token(f"svc-late-{RUN}", [auth.ADMIN], ["*"], expires_in=-60)
    tokens["revoked"] = await via_api("revoked", [auth.ADMIN], ["*"])
    revoked = await auth_http.delete(f"{ADMIN_KEYS}/{names['revoked']}", headers=admin_headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None, revoked.text
    names["expired"] = f"expired-{RUN}"
    tokens["expired"] = await create_key(
        settings.database_url, names["expired"], [auth.ADMIN], ["*"], datetime.now(UTC) - timedelta(seconds=1)
    )
    tokens["none"] = None
    tokens["malformed"] = "not-a-key"
    # Well formed (prefix, 16-hex id, 256-bit secret) but never issued.
    tokens["unknown"] = f"isk_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"
    # The other tenant's workspace exists: something was written to it.
    response = await auth_http.post(
        f"{workspace_base(OTHER_WS)}/experiments", headers=admin_headers, json={"name": "theirs", "dataset_name": "d"}
    )
    assert response.status_code == 201, response.text
    return Keys(tokens, names)


# ---------------------------------------------------------------------------------------------------
# The endpoint table


@dataclass
class Call:
    method: str
    url: str
    json: Any = None


@dataclass
class Endpoint:
    id: str
    scope: str  # "read", "write" or "admin"
    success: int
    # (client, admin headers, workspace) -> the call; it may create what the call needs first.
    prepare: Callable[..., Any]


async def new_experiment(http: httpx.AsyncClient, admin: dict[str, str], workspace: str) -> str:
    name = f"e {uuid.uuid4().hex[:10]}"  # a space: names are URL-encoded
    await create_experiment(http, workspace_base(workspace), name, headers=admin)
    return quote(name, safe="")


def on_experiment(method: str, suffix: str = "", body: Callable[[str], Any] | None = None):
    async def prepare(http, admin, workspace) -> Call:
        # The experiment exists only where the admin may create it (not in the never-written one).
        name = await new_experiment(http, admin, workspace) if workspace != NEVER_WS else "missing"
        url = f"{workspace_base(workspace)}/experiments/{name}{suffix}"
        return Call(method, url, body(name.replace("%20", " ")) if body else None)

    return prepare


def plain(method: str, path: str, body: Callable[[], Any] | None = None):
    async def prepare(http, admin, workspace) -> Call:
        return Call(method, f"{workspace_base(workspace)}{path}", body() if body else None)

    return prepare


async def prepare_revoke(http, admin, workspace) -> Call:
    name = f"victim-{uuid.uuid4().hex[:10]}"
    response = await http.post(
        ADMIN_KEYS, headers=admin, json={"name": name, "scopes": [auth.READ], "workspaces": [WS]}
    )
    assert response.status_code == 201, response.text
    return Call("DELETE", f"{ADMIN_KEYS}/{name}")


async def prepare_evaluator_result(http, admin, workspace) -> Call:
    name = await new_experiment(http, admin, workspace) if workspace != NEVER_WS else "missing"
    body = {"session_id": "s1", "name": "judge", "data_type": "NUMERIC", "value": 0.5}
    if workspace != NEVER_WS:
        body["experiment_name"] = name.replace("%20", " ")
    return Call("POST", f"{workspace_base(workspace)}/evaluator-results", body)


SESSIONS = {"sessions": [{"session_id": "s1", "started_at": T, "scores": {"acc": 1}}]}
ENDPOINTS = [
    Endpoint("list-experiments", "read", 200, plain("GET", "/experiments")),
    Endpoint(
        "create-experiment",
        "write",
        201,
        plain("POST", "/experiments", lambda: {"name": f"new-{uuid.uuid4().hex[:10]}", "dataset_name": "d"}),
    ),
    Endpoint("get-experiment", "read", 200, on_experiment("GET")),
    Endpoint(
        "put-experiment",
        "write",
        200,
        on_experiment("PUT", body=lambda name: {"name": name, "dataset_name": "ds", "description": "x"}),
    ),
    Endpoint("delete-experiment", "write", 204, on_experiment("DELETE")),
    Endpoint("pin", "write", 200, on_experiment("POST", "/pin")),
    Endpoint("unpin", "write", 200, on_experiment("DELETE", "/pin")),
    Endpoint("list-sessions", "read", 200, on_experiment("GET", "/sessions")),
    Endpoint("ingest-sessions", "write", 201, on_experiment("POST", "/sessions", lambda _: SESSIONS)),
    Endpoint("create-evaluator-result", "write", 201, prepare_evaluator_result),
    Endpoint("list-keys", "admin", 200, lambda http, admin, ws: _call("GET", ADMIN_KEYS)),
    Endpoint(
        "create-key",
        "admin",
        201,
        lambda http, admin, ws: _call(
            "POST", ADMIN_KEYS, {"name": f"k-{uuid.uuid4().hex[:10]}", "scopes": [auth.READ], "workspaces": [WS]}
        ),
    ),
    Endpoint("revoke-key", "admin", 200, prepare_revoke),
]


async def _call(method: str, url: str, body: Any = None) -> Call:
    return Call(method, url, body)


def expected_status(endpoint: Endpoint, credential: str) -> int:
    """An admin for WS manages keys of WS (the matrix's keys are for WS), and writes there."""
    credential = ACTS_AS.get(credential, credential)
    if credential in BAD:
        return 401
    if credential in ("admin", "scoped-admin"):
        return endpoint.success
    if endpoint.scope == "admin":
        return 403
    if credential == "other":
        return 403
    if credential == "read" and endpoint.scope != "read":
        return 403
    return endpoint.success


async def send(http: httpx.AsyncClient, call: Call, headers: dict[str, str]) -> httpx.Response:
    return await http.request(call.method, call.url, headers=headers, json=call.json)


def assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert set(response.json()) == {"detail"} and isinstance(response.json()["detail"], str)


# With no key there is no header convention to vary; a JWT is only ever a Bearer token.
CALLERS = [
    (c, h)
    for c in CREDENTIALS
    for h in CONVENTIONS
    if not (c == "none" and h == "bearer") and not (c.startswith("jwt-") and h == "x-api-key")
]


@pytest.mark.parametrize(("credential", "convention"), CALLERS, ids=[f"{c}-{h}" for c, h in CALLERS])
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.id for e in ENDPOINTS])
async def test_matrix(auth_http, keys: Keys, endpoint: Endpoint, credential: str, convention: str) -> None:
    admin = keys.headers("admin")
    call = await endpoint.prepare(auth_http, admin, WS)
    response = await send(auth_http, call, keys.headers(credential, convention))
    expected = expected_status(endpoint, credential)
    if expected == 401:
        assert_401(response)
    else:
        assert response.status_code == expected, response.text
        assert "WWW-Authenticate" not in response.headers
    if expected == 403:
        assert set(response.json()) == {"detail"}
    if expected in (401, 403) and endpoint.scope != "admin":
        # The same answer for a workspace that does not exist: nothing to probe.
        never = await endpoint.prepare(auth_http, admin, NEVER_WS)
        again = await send(auth_http, never, keys.headers(credential, convention))
        assert again.status_code == expected, again.text
        assert again.json()["detail"].replace(NEVER_WS, WS) == response.json()["detail"]
        assert again.headers.get("WWW-Authenticate") == response.headers.get("WWW-Authenticate")
    if expected in (401, 403) and endpoint.scope == "write":
        # A refused write changed nothing: the admin still sees the experiment as it was.
        if endpoint.id == "delete-experiment":
            assert (await auth_http.get(call.url, headers=admin)).status_code == 200
        if endpoint.id == "ingest-sessions":
            assert (await auth_http.get(call.url, headers=admin)).json()["pagination"]["total_results"] == 0


async def test_no_never_written_workspace_leaks_through_the_other_tenants_key(auth_http, keys: Keys) -> None:
    """An existing foreign workspace, a never-written one: identical answers but for the name."""
    existing = await auth_http.get(f"{workspace_base(OTHER_WS)}/experiments/theirs", headers=keys.headers("read"))
    missing = await auth_http.get(f"{workspace_base(NEVER_WS)}/experiments/theirs", headers=keys.headers("read"))
    assert existing.status_code == missing.status_code == 403
    assert existing.json()["detail"].replace(OTHER_WS, "W") == missing.json()["detail"].replace(NEVER_WS, "W")
    # The owner reads it fine.
    owner = await auth_http.get(f"{workspace_base(OTHER_WS)}/experiments/theirs", headers=keys.headers("other"))
    assert owner.status_code == 200 and owner.json()["name"] == "theirs"


def _served_routes(openapi: dict[str, Any]) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, ops in openapi["paths"].items() for method in ops]


async def test_every_served_workspace_route_is_guarded(auth_http, keys: Keys) -> None:
    """Whatever routes exist under the workspace base (new ones included): no key → 401, a key for
    another workspace → 403, a read-only key on a write → 403; admin routes want intake:admin."""
    openapi = (await auth_http.get("/openapi.json")).json()
    routes = _served_routes(openapi)
    workspace_routes = [(m, p) for m, p in routes if p.startswith("/apis/intake/v2/workspaces/{workspace}")]
    admin_routes = [(m, p) for m, p in routes if p.startswith(ADMIN_KEYS)]
    assert len(workspace_routes) >= 10 and len(admin_routes) == 3
    for method, path in workspace_routes + admin_routes:
        url = re.sub(r"\{workspace\}", WS, path)
        url = re.sub(r"\{[^}]+\}", "x", url)
        no_key = await auth_http.request(method, url, json={})
        assert no_key.status_code == 401, (method, path, no_key.text)
        assert "WWW-Authenticate" in no_key.headers
        other = await auth_http.request(method, url, json={}, headers=keys.headers("other"))
        assert other.status_code == 403, (method, path, other.text)
        if method not in ("GET", "HEAD"):
            read_only = await auth_http.request(method, url, json={}, headers=keys.headers("read"))
            assert read_only.status_code == 403, (method, path, read_only.text)


# ---------------------------------------------------------------------------------------------------
# Header details


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"X-API-Key": ""},
        {"X-API-Key": "isk_0123456789abcdef_"},
        {"X-API-Key": "isk_zz_" + "A" * 43},
        {"X-API-Key": "isk_0123456789abcdef_" + "A" * 10_000},
    ],
)
async def test_bad_credentials_are_401(auth_http, headers: dict[str, str]) -> None:
    assert_401(await auth_http.get(f"{workspace_base(WS)}/experiments", headers=headers))


async def test_bearer_scheme_is_case_insensitive_and_tampering_fails(auth_http, keys: Keys) -> None:
    token = keys.tokens["read"]
    assert token is not None
    ok = await auth_http.get(f"{workspace_base(WS)}/experiments", headers={"Authorization": f"bearer {token}"})
    assert ok.status_code == 200, ok.text
    # Same key id, one character of the secret changed: 401 (the hash is what is compared).
    last = "A" if token[-1] != "A" else "B"
    assert_401(await auth_http.get(f"{workspace_base(WS)}/experiments", headers={"X-API-Key": token[:-1] + last}))


async def test_401_messages_say_what_is_wrong(auth_http, keys: Keys) -> None:
    url = f"{workspace_base(WS)}/experiments"
    details = {}
    for credential in BAD:
        response = await auth_http.get(url, headers=keys.headers(credential))
        assert_401(response)
        details[credential] = response.json()["detail"]
    assert "required" in details["none"]
    assert details["malformed"] == details["unknown"]  # nothing tells a bad id from a bad secret
    assert "revoked" in details["revoked"]
    assert "expired" in details["expired"]


# ---------------------------------------------------------------------------------------------------
# What a key records and what is stored


async def test_created_by_records_the_key_name(auth_http, keys: Keys) -> None:
    headers = keys.headers("write", "bearer")
    response = await auth_http.post(
        f"{workspace_base(WS)}/experiments", headers=headers, json={"name": "by-key", "dataset_name": "d"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["created_by"] == keys.names["write"]
    listed = await auth_http.get(
        f"{workspace_base(WS)}/experiments", headers=headers, params={"filter[created_by]": keys.names["write"]}
    )
    rows = listed.json()["data"]
    assert "by-key" in [row["name"] for row in rows]
    assert {row["created_by"] for row in rows} == {keys.names["write"]}
    result = await auth_http.post(
        f"{workspace_base(WS)}/evaluator-results",
        headers=headers,
        json={"session_id": "s", "name": "j", "data_type": "NUMERIC", "value": 1, "experiment_name": "by-key"},
    )
    assert result.status_code == 201, result.text
    assert result.json()["created_by"] == keys.names["write"]


async def test_last_used_at_is_set_on_use(settings, auth_http, keys: Keys) -> None:
    admin = keys.headers("admin")
    name = f"lastused-{RUN}"
    created = await auth_http.post(
        ADMIN_KEYS, headers=admin, json={"name": name, "scopes": [auth.READ], "workspaces": [WS]}
    )
    assert created.status_code == 201
    assert created.json()["key"]["last_used_at"] is None
    before = datetime.now(UTC)
    assert (
        await auth_http.get(
            f"{workspace_base(WS)}/experiments", headers=headers_for(created.json()["secret"], "bearer")
        )
    ).status_code == 200
    [listed] = [k for k in (await auth_http.get(ADMIN_KEYS, headers=admin)).json() if k["name"] == name]
    used = datetime.fromisoformat(listed["last_used_at"])
    assert before - timedelta(seconds=1) <= used <= datetime.now(UTC)
    assert (await key_row(settings.database_url, name)).last_used_at == used


async def test_only_a_hash_of_a_256_bit_secret_is_stored(settings, auth_http, keys: Keys) -> None:
    admin = keys.headers("admin")
    name = f"stored-{RUN}"
    created = await auth_http.post(ADMIN_KEYS, headers=admin, json={"name": name, "scopes": [auth.READ, auth.WRITE]})
    assert created.status_code == 201, created.text
    body = created.json()
    token = body["secret"]
    prefix, key_id, secret = token.split("_", 2)
    assert prefix == "isk" and key_id == body["key"]["id"]
    raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    assert len(raw) * 8 >= 256
    assert body["key"]["workspaces"] == ["*"] and body["key"]["scopes"] == [auth.READ, auth.WRITE]

    row = await key_row(settings.database_url, name)
    assert row.secret_hash == hashlib.sha256(token.encode()).hexdigest()

    # No column of any api_keys row holds the token or the secret part of it.
    async def dump(session):
        return (await session.execute(text("SELECT t::text FROM api_keys t"))).scalars().all()

    rows = await run_in_transaction(settings.database_url, dump)
    assert rows and not [r for r in rows if secret in r or token in r]
    # Listing never shows a secret either.
    listed = await auth_http.get(ADMIN_KEYS, headers=admin)
    assert secret not in listed.text and all("secret" not in k and "secret_hash" not in k for k in listed.json())
    # Two keys never share a secret.
    again = await auth_http.post(ADMIN_KEYS, headers=admin, json={"name": f"{name}-2", "scopes": [auth.READ]})
    assert again.json()["secret"].split("_", 2)[2] != secret


async def test_admin_key_routes_validate(auth_http, keys: Keys) -> None:
    admin = keys.headers("admin")
    taken = await auth_http.post(ADMIN_KEYS, headers=admin, json={"name": keys.names["read"], "scopes": [auth.READ]})
    assert taken.status_code == 409 and keys.names["read"] in taken.json()["detail"]
    assert (await auth_http.post(ADMIN_KEYS, headers=admin, json={"name": "x", "scopes": ["root"]})).status_code == 422
    assert (await auth_http.post(ADMIN_KEYS, headers=admin, json={"name": "x", "scopes": []})).status_code == 422
    assert (
        await auth_http.post(ADMIN_KEYS, headers=admin, json={"name": "x", "scopes": [auth.READ], "workspaces": []})
    ).status_code == 422
    assert (await auth_http.delete(f"{ADMIN_KEYS}/no-such-key", headers=admin)).status_code == 404
    # Workspaces follow the workspace grammar (or '*'): NUL, control characters, upper case → 422.
    for index, bad in enumerate(["a\x00b", "UPPER", "a b", "-lead", "x" * 64, "\ud800"]):
        body = {"name": f"badws-{index}-{RUN}", "scopes": [auth.READ], "workspaces": ["ok", bad]}
        response = await auth_http.post(  # json.dumps escapes the lone surrogate as \ud800
            ADMIN_KEYS, headers={**admin, "content-type": "application/json"}, content=json.dumps(body)
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["detail"][0]["loc"][:2] == ["body", "workspaces"]
    assert not [k for k in (await auth_http.get(ADMIN_KEYS, headers=admin)).json() if k["name"].startswith("badws-")]
    # The domain function (what the CLI calls) refuses the same.
    for name, workspaces in (("ok-name", ["a\x00"]), ("bad name", ["ws"]), ("nul\x00", ["ws"])):
        with pytest.raises(auth.DomainError):
            auth.validate_key_request(name, [auth.READ], workspaces)
    # Revoking twice: the second is a 404 (nothing active by that name).
    assert (await auth_http.delete(f"{ADMIN_KEYS}/{keys.names['revoked']}", headers=admin)).status_code == 404


async def test_revocation_and_expiry_take_effect_at_once(settings, auth_http, keys: Keys) -> None:
    admin = keys.headers("admin")
    name = f"shortlived-{RUN}"
    expires = datetime.now(UTC) + timedelta(seconds=1.5)
    token = await create_key(settings.database_url, name, [auth.READ], [WS], expires)
    url = f"{workspace_base(WS)}/experiments"
    assert (await auth_http.get(url, headers=headers_for(token, "x-api-key"))).status_code == 200
    await asyncio.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.1)
    assert_401(await auth_http.get(url, headers=headers_for(token, "x-api-key")))

    name = f"torevoke-{RUN}"
    token = await create_key(settings.database_url, name, [auth.READ], [WS])
    assert (await auth_http.get(url, headers=headers_for(token, "bearer"))).status_code == 200
    assert (await auth_http.delete(f"{ADMIN_KEYS}/{name}", headers=admin)).status_code == 200
    assert_401(await auth_http.get(url, headers=headers_for(token, "bearer")))


async def test_auth_none_app_still_answers_without_a_key(client, base) -> None:
    """The default app (auth none, loopback) needs no key; admin routes too (it is all one user)."""
    assert (await client.get(f"{base}/experiments")).status_code == 200


# ---------------------------------------------------------------------------------------------------
# CLI


async def test_keys_cli_create_list_revoke(settings, auth_http, tmp_path: Path) -> None:
    """The CLI against the test's PostgreSQL (so the app sees its keys) with its own data directory."""
    name = f"cli-{RUN}"
    store = ["--data-dir", str(tmp_path), "--database-url", settings.database_url]
    created = await asyncio.to_thread(
        cli,
        "keys",
        "create",
        name,
        "--scope",
        auth.READ,
        "--scope",
        auth.WRITE,
        "--workspace",
        WS,
        "--expires-in-days",
        "7",
        *store,
    )
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("isk_")
    assert (await key_row(settings.database_url, name)).secret_hash == hashlib.sha256(token.encode()).hexdigest()
    response = await auth_http.post(
        f"{workspace_base(WS)}/experiments",
        headers=headers_for(token, "bearer"),
        json={"name": "from-cli", "dataset_name": "d"},
    )
    assert response.status_code == 201 and response.json()["created_by"] == name

    listed = await asyncio.to_thread(cli, "keys", "list", *store)
    assert listed.returncode == 0, listed.stderr
    [line] = [ln for ln in listed.stdout.splitlines() if ln.startswith(name + "\t")]
    assert f"{auth.READ},{auth.WRITE}" in line and WS in line and line.endswith("active")
    assert "last_used=never" not in line and token not in listed.stdout

    revoked = await asyncio.to_thread(cli, "keys", "revoke", name, *store)
    assert revoked.returncode == 0, revoked.stderr
    assert (await key_row(settings.database_url, name)).revoked_at is not None
    assert_401(await auth_http.get(f"{workspace_base(WS)}/experiments", headers=headers_for(token, "bearer")))
    # Nothing active by that name any more: a one-line error and a non-zero exit.
    again = await asyncio.to_thread(cli, "keys", "revoke", name, *store)
    assert again.returncode != 0 and "not found" in again.stderr
    # Keys live in PostgreSQL only: the commands never opened a ClickHouse store in the data directory.
    assert not (tmp_path / "clickhouse").exists()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1"])
def test_serve_refuses_a_non_loopback_host_with_auth_off(tmp_path: Path, host: str) -> None:
    result = cli("serve", "--host", host, "--port", str(free_port()), "--data-dir", str(tmp_path), timeout=30)
    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and message.endswith(".")
    assert host in message and "--insecure-no-auth" in message and "api-key" in message
    # It refused before touching anything: no stores were started in the data directory.
    assert not (tmp_path / "postgres").exists()


def test_serve_starts_on_a_non_loopback_host_with_insecure_no_auth(tmp_path: Path, serve) -> None:
    server = serve(tmp_path / "data", "--host", "0.0.0.0", "--insecure-no-auth")
    # Auth is really off: a write without a key succeeds.
    created = httpx.post(
        f"{server.url}{workspace_base('open')}/experiments", json={"name": "n", "dataset_name": "d"}, timeout=10
    )
    assert created.status_code == 201, created.text
    assert server.stop() == 0


async def test_key_lookup_while_postgresql_is_down_is_503_not_401(settings) -> None:
    """With PostgreSQL unreachable the key cannot be checked: the store is unavailable (503), the
    caller is not told their key is bad (401). Port 1: nothing listens."""
    down = "postgresql+asyncpg://intake@127.0.0.1:1/intake"
    async with client_for(settings, auth="api-key", database_url=down) as http:
        token = f"isk_{secrets.token_hex(8)}_{secrets.token_urlsafe(32)}"
        for headers in ({"X-API-Key": token}, {"Authorization": f"Bearer {token}"}):
            response = await http.get(f"{workspace_base(WS)}/experiments", headers=headers)
            assert response.status_code == 503, response.text
            assert response.json() == {"detail": "Metadata store unavailable."}
            response = await http.get(ADMIN_KEYS, headers=headers)
            assert response.status_code == 503, response.text
        # No key at all needs no store: still a 401.
        assert_401(await http.get(f"{workspace_base(WS)}/experiments"))
