"""Issue 11, finding 1 (admin escalation): an intake:admin key or JWT for some workspaces sees and
manages only the keys whose workspaces lie within its own, never makes a key broader than itself,
and only a '*' admin manages '*' keys. Also how a JWT gives its workspaces (the `workspaces` claim)."""

import time
import uuid
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest

from intake_service.app import create_app
from intake_service.domain import auth
from intake_service.store.postgres.api_keys import ApiKeyRepository
from intake_service.store.postgres.engine import run_in_transaction

from support import running

ADMIN_KEYS = "/apis/intake/v2/admin/keys"
SECRET = "admin-scope-secret-of-at-least-32-bytes"
RUN = uuid.uuid4().hex[:8]
WS, WS2, OTHER = f"as-{RUN}", f"as2-{RUN}", f"as-other-{RUN}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def jwt_headers(scopes: list[str], workspaces: object = None, subject: str = "svc") -> dict[str, str]:
    claims: dict[str, object] = {"sub": subject, "scope": " ".join(scopes), "exp": int(time.time()) + 300}
    if workspaces is not None:
        claims["workspaces"] = workspaces
    return bearer(jwt.encode(claims, SECRET, algorithm="HS256"))


@pytest.fixture(scope="module")
async def http(settings) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings.model_copy(update={"auth": "api-key", "jwt_secret": SECRET}))
    async with running(application) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture(scope="module")
async def root(settings) -> dict[str, str]:
    """A '*' admin key, made the way the CLI makes one."""

    async def work(session):
        return (await auth.create_key(ApiKeyRepository(session), f"root-{RUN}", [auth.ADMIN], ["*"], None))[1]

    return {"X-API-Key": await run_in_transaction(settings.database_url, work)}


async def make(http: httpx.AsyncClient, by: dict[str, str], workspaces: list[str] | None, scopes: list[str],
               name: str | None = None) -> httpx.Response:  # fmt: skip
    body: dict[str, object] = {"name": name or f"k-{uuid.uuid4().hex[:10]}", "scopes": scopes}
    if workspaces is not None:
        body["workspaces"] = workspaces
    return await http.post(ADMIN_KEYS, headers=by, json=body)


async def names(http: httpx.AsyncClient, by: dict[str, str]) -> set[str]:
    response = await http.get(ADMIN_KEYS, headers=by)
    assert response.status_code == 200, response.text
    return {key["name"] for key in response.json()}


async def test_admin_escalation_scoped_admin_sees_and_manages_only_its_workspaces(http, root) -> None:
    made = {}
    for label, workspaces in {"ws": [WS], "ws2": [WS2], "both": [WS, WS2], "other": [OTHER], "mixed": [WS, OTHER],
                              "all": ["*"]}.items():  # fmt: skip
        response = await make(http, root, workspaces, [auth.READ])
        assert response.status_code == 201, response.text
        made[label] = response.json()["key"]["name"]
    scoped = await make(http, root, [WS, WS2], [auth.ADMIN])
    assert scoped.status_code == 201, scoped.text
    admin = {"X-API-Key": scoped.json()["secret"]}

    # It lists the keys within WS and WS2 (itself included), none beyond.
    seen = await names(http, admin)
    assert {made["ws"], made["ws2"], made["both"], scoped.json()["key"]["name"]} <= seen
    assert not {made["other"], made["mixed"], made["all"]} & seen
    assert all(set(key["workspaces"]) <= {WS, WS2} for key in (await http.get(ADMIN_KEYS, headers=admin)).json())

    # Nothing broader than itself: not '*', not another workspace, not a default '*' key.
    for workspaces in (["*"], [OTHER], [WS, OTHER], None):
        refused = await make(http, admin, workspaces, [auth.READ])
        assert refused.status_code == 403, (workspaces, refused.text)
        assert set(refused.json()) == {"detail"} and refused.json()["detail"].endswith(".")
    # Within its workspaces it may make any key, an admin for one of them included.
    assert (await make(http, admin, [WS2], [auth.ADMIN, auth.READ])).status_code == 201

    # A key outside its workspaces is "not found", the same answer as a name never issued; it stays active.
    for label in ("other", "mixed", "all"):
        response = await http.delete(f"{ADMIN_KEYS}/{made[label]}", headers=admin)
        assert response.status_code == 404, response.text
        assert response.json()["detail"] == f"API key '{made[label]}' not found."
    assert made["all"] in await names(http, root)
    assert not [k for k in (await http.get(ADMIN_KEYS, headers=root)).json() if k["revoked_at"] and k["name"] in
                (made["other"], made["mixed"], made["all"])]  # fmt: skip
    revoked = await http.delete(f"{ADMIN_KEYS}/{made['both']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None

    # The '*' admin manages '*' keys.
    assert (await make(http, root, ["*"], [auth.ADMIN])).status_code == 201
    assert (await http.delete(f"{ADMIN_KEYS}/{made['all']}", headers=root)).status_code == 200


async def test_admin_escalation_jwt_admin_follows_the_same_rule(http, root) -> None:
    inside = (await make(http, root, [WS], [auth.READ])).json()["key"]["name"]
    outside = (await make(http, root, [OTHER], [auth.READ])).json()["key"]["name"]
    scoped = jwt_headers([auth.ADMIN], [WS], subject="ops")
    seen = await names(http, scoped)
    assert inside in seen and outside not in seen
    assert (await make(http, scoped, ["*"], [auth.READ])).status_code == 403
    assert (await make(http, scoped, [OTHER], [auth.READ])).status_code == 403
    assert (await make(http, scoped, [WS], [auth.WRITE])).status_code == 201
    assert (await http.delete(f"{ADMIN_KEYS}/{outside}", headers=scoped)).status_code == 404
    assert (await http.delete(f"{ADMIN_KEYS}/{inside}", headers=scoped)).status_code == 200
    # A JWT admin for '*' manages every key; one without the claim manages none and makes none.
    everything = jwt_headers([auth.ADMIN], "*")
    assert outside in await names(http, everything)
    assert (await make(http, everything, ["*"], [auth.ADMIN])).status_code == 201
    unclaimed = jwt_headers([auth.ADMIN])
    assert await names(http, unclaimed) == set()
    assert (await make(http, unclaimed, [WS], [auth.READ])).status_code == 403


async def test_a_jwt_uses_only_the_workspaces_of_its_claim(http, root) -> None:
    created = await http.post(f"/apis/intake/v2/workspaces/{WS}/experiments", headers=root,
                              json={"name": "e", "dataset_name": "d"})  # fmt: skip
    assert created.status_code == 201, created.text
    url = f"/apis/intake/v2/workspaces/{WS}/experiments"
    assert (await http.get(url, headers=jwt_headers([auth.READ], [WS]))).status_code == 200
    assert (await http.get(url, headers=jwt_headers([auth.READ], f"{OTHER} {WS}"))).status_code == 200
    assert (await http.get(url, headers=jwt_headers([auth.READ], ["*"]))).status_code == 200
    for workspaces in (None, [OTHER], []):
        refused = await http.get(url, headers=jwt_headers([auth.READ], workspaces))
        assert refused.status_code == 403, (workspaces, refused.text)
    for bad in ([1], {"a": 1}, ["UPPER"], ["a b"]):
        response = await http.get(url, headers=jwt_headers([auth.READ], bad))
        assert response.status_code == 401, (bad, response.text)
        assert response.json()["detail"] == "The JWT 'workspaces' claim must list workspace names, or '*' for all."
    # created_by of a JWT caller is jwt:<sub>, never a key name.
    made = await http.post(url, headers=jwt_headers([auth.WRITE], [WS], subject="trainer"),
                           json={"name": "by-jwt", "dataset_name": "d"})  # fmt: skip
    assert made.status_code == 201 and made.json()["created_by"] == "jwt:trainer"
