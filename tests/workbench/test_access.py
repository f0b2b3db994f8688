"""Who sees and changes what: the visibility rule across principals (own, public, shared, admin),
the ml-workbench scopes on API keys, the workspace a caller works in, and JWT Bearer tokens
(HS256 and RS256; expired, wrong signature, wrong audience → 401)."""

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from intake_service.domain import auth

from support import WORKBENCH_API as API
from support import client_for, create_key, ok, problem

SECRET = "workbench-test-secret-of-32-bytes!!"
AUDIENCE = "intake-service"
WB = [auth.WORKBENCH_READ, auth.WORKBENCH_WRITE]


def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


RSA_KEY, OTHER_RSA_KEY = _private_key(), _private_key()
PUBLIC_PEM = (
    RSA_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


@dataclass
class Caller:
    name: str
    headers: dict[str, str]


@pytest.fixture(scope="module")
async def http(settings) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(
        settings, auth="api-key", jwt_secret=SECRET, jwt_public_key=PUBLIC_PEM, jwt_audience=AUDIENCE
    ) as client:
        yield client


@pytest.fixture
def ws() -> str:
    return f"ws-{uuid.uuid4().hex[:12]}"


async def key_caller(settings, scopes: list[str], workspaces: list[str], header: str = "x-api-key") -> Caller:
    name = f"wb-{uuid.uuid4().hex[:10]}"
    token = await create_key(settings.database_url, name, scopes, workspaces)
    headers = {"X-API-Key": token} if header == "x-api-key" else {"Authorization": f"Bearer {token}"}
    return Caller(name, headers)


def token(claims: dict, *, key=SECRET, algorithm: str = "HS256") -> dict[str, str]:
    # Parametrized tokens are made at collection, minutes before a full run reaches them: a day of life.
    body = {"sub": "svc-trainer", "scope": " ".join(WB), "workspaces": "*", "aud": AUDIENCE,
            "exp": int(time.time()) + 86_400, **claims}  # fmt: skip
    return {"Authorization": f"Bearer {jwt.encode(body, key, algorithm=algorithm)}"}


class TestVisibility:
    async def test_own_public_shared_and_admin(self, http, settings, ws) -> None:
        alice = await key_caller(settings, WB, [ws])
        bob = await key_caller(settings, WB, [ws], header="bearer")
        carol = await key_caller(settings, WB, [ws])
        admin = await key_caller(settings, [auth.ADMIN], ["*"])
        admin.headers["X-Organization-Id"] = ws

        async def make(caller: Caller, **body) -> dict:
            return ok(await http.post(API, headers=caller.headers, json=body), 201)

        private = await make(alice, name="a-private", run_name="r")
        public = await make(alice, name="a-public", is_public=True)
        shared = await make(alice, name="a-shared", shared_with=[bob.name])
        bobs = await make(bob, name="b-own")

        async def visible(caller: Caller) -> list[str]:
            listed = ok(await http.get(API, headers=caller.headers, params={"sort": "name:asc"}))
            assert listed["count"] == len(listed["experiments"])
            return [e["name"] for e in listed["experiments"]]

        assert await visible(alice) == ["a-private", "a-public", "a-shared"]
        assert await visible(bob) == ["a-public", "a-shared", "b-own"]
        assert await visible(carol) == ["a-public"]
        assert await visible(admin) == ["a-private", "a-public", "a-shared", "b-own"]
        assert ok(await http.get(f"{API}/stats", headers=carol.headers))["total"] == 1
        assert ok(await http.get(f"{API}/stats", headers=bob.headers))["total"] == 3

        got = ok(await http.get(f"{API}/{shared['id']}", headers=bob.headers))
        assert got["owner"] == alice.name and got["organizationId"] == ws and got["sharedWith"] == [bob.name]
        for ref in (private["id"], private["run_id"], private["id"][:-3]):
            assert problem(await http.get(f"{API}/{ref}", headers=bob.headers), 404).endswith("not found.")
        assert (
            problem(
                await http.get(
                    f"{API}/compare", headers=carol.headers, params={"ids": f"{public['id']},{private['id']}"}
                ),
                404,
            )
            == f"Experiment '{private['id']}' not found."
        )

        # Seeing is not changing: only the owner (or an admin) writes.
        forbidden = f"Only the owner of experiment '{shared['id']}' may change it."
        assert (
            problem(await http.put(f"{API}/{shared['id']}", headers=bob.headers, json={"name": "mine"}), 403)
            == forbidden
        )
        assert problem(await http.post(f"{API}/{shared['id']}/pin", headers=bob.headers), 403) == forbidden
        metrics = {"metrics": [{"key": "a", "value": 1}]}
        assert (
            problem(await http.post(f"{API}/{shared['id']}/metrics", headers=bob.headers, json=metrics), 403)
            == forbidden
        )
        assert problem(await http.delete(f"{API}/{shared['id']}", headers=bob.headers), 403) == forbidden
        assert problem(await http.delete(f"{API}/{private['id']}", headers=bob.headers), 404).endswith("not found.")
        assert ok(await http.put(f"{API}/{public['id']}/tags", headers=admin.headers, json={"tags": ["reviewed"]}))[
            "tags"
        ] == ["reviewed"]
        # Names are unique per owner: bob may have his own a-private; alice's POST of it conflicts.
        assert (
            ok(await http.post(f"{API}/register", headers=bob.headers, json={"name": "a-private"}), 201)["exists"]
            is False
        )
        assert (
            ok(await http.post(f"{API}/register", headers=alice.headers, json={"name": "a-private"}))["exists"] is True
        )
        # experiment_name only finds the caller's own experiment: carol gets a new one, not alice's.
        mine = ok(
            await http.post(API, headers=carol.headers, json={"experiment_name": "a-public", "run_name": "c"}), 201
        )
        assert mine["experiment_id"] != public["id"] and mine["name"] == "c"
        assert bobs["id"] in {e["id"] for e in ok(await http.get(API, headers=admin.headers))["experiments"]}

    async def test_scoped_admins_see_all_of_their_workspaces_only(self, http, settings, ws) -> None:
        """An admin key or JWT for one workspace sees and changes everything there, nothing elsewhere."""
        alice = await key_caller(settings, WB, [ws])
        private = ok(await http.post(API, headers=alice.headers, json={"name": "p", "run_name": "r"}), 201)
        elsewhere = f"{ws}-x"
        admins = {
            "key": (await key_caller(settings, [auth.ADMIN], [ws])).headers,
            "jwt": token({"scope": auth.ADMIN, "sub": "ops", "workspaces": [ws]}),
        }
        for kind, headers in admins.items():
            assert private["id"] in {e["id"] for e in ok(await http.get(API, headers=headers))["experiments"]}, kind
            assert ok(await http.get(f"{API}/{private['run_id']}", headers=headers))["experimentId"] == private["id"]
            ok(await http.put(f"{API}/{private['id']}/tags", headers=headers, json={"tags": [kind]}))
            other = {**headers, "X-Organization-Id": elsewhere}
            listed = ok(await http.get(API, headers=other))  # one workspace: the header cannot move it
            assert private["id"] in {e["id"] for e in listed["experiments"]}
        # With several workspaces the header chooses, and one beyond them is refused.
        two = token({"scope": auth.ADMIN, "workspaces": [ws, f"{ws}-y"]})
        assert ok(await http.get(API, headers={**two, "X-Organization-Id": ws}))["count"] >= 1
        assert problem(await http.get(API, headers={**two, "X-Organization-Id": elsewhere}), 403) == (
            f"This API key may not access workspace '{elsewhere}'."
        )

    async def test_workspace_of_the_caller(self, http, settings, ws) -> None:
        single = await key_caller(settings, WB, [ws])
        single.headers["X-Organization-Id"] = "elsewhere"  # a key with one workspace always works in it
        made = ok(await http.post(API, headers=single.headers, json={"name": "here"}), 201)
        assert ok(await http.get(f"{API}/{made['id']}", headers=single.headers))["organizationId"] == ws
        other_ws = f"{ws}-b"
        both = await key_caller(settings, WB, [ws, other_ws])
        assert (
            problem(await http.get(API, headers=both.headers), 403)
            == "This API key may not access workspace 'default'."
        )
        assert ok(await http.get(API, headers={**both.headers, "X-Organization-Id": other_ws}))["count"] == 0
        outsider = await key_caller(settings, WB, [other_ws])
        assert problem(await http.get(f"{API}/{made['id']}", headers=outsider.headers), 404).endswith("not found.")


class TestScopes:
    async def test_key_scopes(self, http, settings, ws) -> None:
        reader = await key_caller(settings, [auth.WORKBENCH_READ], [ws])
        writer = await key_caller(settings, [auth.WORKBENCH_WRITE], [ws])
        intake = await key_caller(settings, [auth.READ, auth.WRITE], [ws])
        assert ok(await http.get(API, headers=reader.headers))["count"] == 0
        assert problem(await http.post(API, headers=reader.headers, json={"name": "x"}), 403) == (
            "This API key lacks the scope ml-workbench:write."
        )
        ok(await http.post(API, headers=writer.headers, json={"name": "x"}), 201)
        assert problem(await http.get(f"{API}/stats", headers=writer.headers), 403) == (
            "This API key lacks the scope ml-workbench:read."
        )
        assert (
            problem(await http.get(API, headers=intake.headers), 403)
            == "This API key lacks the scope ml-workbench:read."
        )
        assert problem(await http.get(API), 401).startswith("An API key is required")
        assert (
            problem(await http.get(API, headers={"X-API-Key": "isk_0000000000000000_nope"}), 401)
            == "The API key is not valid."
        )


class TestJwt:
    async def test_hs256_and_rs256_tokens(self, http) -> None:
        ws_headers = {"X-Organization-Id": f"jwt-{uuid.uuid4().hex[:10]}"}
        made = ok(await http.post(API, headers={**token({}), **ws_headers}, json={"name": "from-a-service"}), 201)
        got = ok(
            await http.get(f"{API}/{made['id']}", headers={**token({}, key=RSA_KEY, algorithm="RS256"), **ws_headers})
        )
        assert got["owner"] == "jwt:svc-trainer" and got["organizationId"] == ws_headers["X-Organization-Id"]
        other = token({"sub": "svc-other"}, key=RSA_KEY, algorithm="RS256")
        assert problem(await http.get(f"{API}/{made['id']}", headers={**other, **ws_headers}), 404).endswith(
            "not found."
        )

    @pytest.mark.parametrize(
        ("headers", "sentence"),
        [
            (token({"exp": int(time.time()) - 60}), "The JWT has expired."),
            (token({"exp": int(time.time()) - 60}, key=RSA_KEY, algorithm="RS256"), "The JWT has expired."),
            (token({}, key="another-secret-of-at-least-32-bytes"), "The JWT signature is not valid."),
            (token({}, key=OTHER_RSA_KEY, algorithm="RS256"), "The JWT signature is not valid."),
            (token({"aud": "someone-else"}), "The JWT audience is not accepted."),
            (token({"aud": "someone-else"}, key=RSA_KEY, algorithm="RS256"), "The JWT audience is not accepted."),
            (token({"aud": None}), "The JWT audience is not accepted."),
            (token({"sub": None}), "The JWT lacks the 'sub' claim."),
            (
                {"Authorization": "Bearer " + jwt.encode({"sub": "x", "aud": AUDIENCE}, None, algorithm="none")},
                "The JWT must be signed with HS256 or RS256.",
            ),
            ({"Authorization": "Bearer not.a.jwt"}, "The bearer token is not a valid JWT."),
        ],
        ids=[
            "expired",
            "expired-rs256",
            "wrong-secret",
            "wrong-rsa-key",
            "wrong-audience",
            "wrong-audience-rs256",
            "no-audience",
            "no-subject",
            "alg-none",
            "garbage",
        ],
    )
    async def test_rejected_tokens_are_401(self, http, headers, sentence) -> None:
        response = await http.get(API, headers=headers)
        assert problem(response, 401) == sentence
        assert "Bearer" in response.headers["www-authenticate"]

    async def test_jwt_scopes(self, http) -> None:
        reader = token({"scope": auth.WORKBENCH_READ})
        assert ok(await http.get(API, headers=reader))["count"] >= 0
        assert problem(await http.post(API, headers=reader, json={"name": "x"}), 403) == (
            "This API key lacks the scope ml-workbench:write."
        )
        assert problem(await http.get(API, headers=token({"scope": auth.READ})), 403).endswith("ml-workbench:read.")
        admin = token({"scope": auth.ADMIN, "sub": "platform-admin"})
        assert ok(await http.get(f"{API}/stats", headers=admin))["total"] >= 0

    async def test_tokens_need_a_configured_key(self, settings) -> None:
        async with client_for(settings, auth="api-key") as plain:
            assert problem(await plain.get(API, headers=token({})), 401) == (
                "JWT bearer tokens are not accepted: no JWT verification key is configured."
            )


class TestLeaks:
    """Issue 11, finding 10: nothing tells a caller that a private run exists, and a JWT subject is
    never the API key of the same name."""

    async def test_workbench_leaks_a_private_run_id_is_not_revealed_by_post(self, http, settings, ws) -> None:
        alice = await key_caller(settings, WB, [ws])
        bob = await key_caller(settings, WB, [ws])
        run_id = f"run-{uuid.uuid4().hex[:8]}"
        hers = ok(await http.post(API, headers=alice.headers, json={"name": "private", "run_id": run_id}), 201)
        ok(
            await http.post(
                f"{API}/{run_id}/metrics", headers=alice.headers, json={"metrics": [{"key": "a", "value": 1}]}
            )
        )
        ok(await http.post(f"{API}/{run_id}/artifacts", headers=alice.headers,
                           json={"name": "m.txt", "content_base64": "aGk="}))  # fmt: skip
        # GET and POST answer as if it did not exist: 404, and a POST of that id makes bob's own run.
        assert problem(await http.get(f"{API}/{run_id}", headers=bob.headers), 404).endswith("not found.")
        assert problem(await http.post(API, headers=bob.headers, json={"name": "c", "parent_run_id": run_id}), 404) == (
            f"Run '{run_id}' not found."
        )
        # Nor may bob's run name her public run as its parent: parent_run_id names no owner.
        public_id = f"pub-{uuid.uuid4().hex[:8]}"
        public = {"name": "open", "run_id": public_id, "is_public": True}
        ok(await http.post(API, headers=alice.headers, json=public), 201)
        child = {"name": "kid", "parent_run_id": public_id}
        assert problem(await http.post(API, headers=bob.headers, json=child), 404) == f"Run '{public_id}' not found."
        his = ok(await http.post(API, headers=bob.headers, json={"name": "mine", "run_id": run_id}), 201)
        assert his["run_id"] == run_id and his["experiment_id"] != hers["experiment_id"]
        # Each sees his own run under the id, with his own metrics and artifacts.
        ok(
            await http.post(
                f"{API}/{run_id}/metrics", headers=bob.headers, json={"metrics": [{"key": "b", "value": 2}]}
            )
        )
        bobs = ok(await http.get(f"{API}/{run_id}", headers=bob.headers))
        assert (
            bobs["experimentId"] == his["experiment_id"]
            and bobs["latestMetrics"] == {"b": 2.0}
            and bobs["artifacts"] == []
        )
        alices = ok(await http.get(f"{API}/{run_id}", headers=alice.headers))
        assert alices["experimentId"] == hers["experiment_id"] and alices["latestMetrics"] == {"a": 1.0}
        assert [a["path"] for a in alices["artifacts"]] == ["m.txt"]
        history = ok(await http.get(f"{API}/{run_id}/metrics", headers=alice.headers))
        assert [(m["key"], m["value"]) for m in history["metrics"]] == [("a", 1.0)]
        # The owner's own clash is still a conflict.
        assert problem(await http.post(API, headers=alice.headers, json={"name": "again", "run_id": run_id}), 409) == (
            f"Run '{run_id}' already exists."
        )
        # Once both runs are public, a third caller is told the id is ambiguous; the owners still get theirs.
        for caller, made in ((alice, hers), (bob, his)):
            ok(await http.put(f"{API}/{made['experiment_id']}", headers=caller.headers, json={"is_public": True}))
        carol = await key_caller(settings, WB, [ws])
        assert problem(await http.get(f"{API}/{run_id}", headers=carol.headers), 400).startswith("The id prefix")
        assert ok(await http.get(f"{API}/{run_id}", headers=bob.headers))["experimentId"] == his["experiment_id"]
        # Deleting bob's run leaves alice's, its metrics and its artifact alone.
        assert (await http.delete(f"{API}/{run_id}", headers=bob.headers)).status_code == 204
        alices = ok(await http.get(f"{API}/{run_id}", headers=alice.headers))
        assert alices["latestMetrics"] == {"a": 1.0} and len(alices["artifacts"]) == 1
        content = await http.get(f"{API}/{run_id}/artifacts/content", headers=alice.headers, params={"path": "m.txt"})
        assert content.status_code == 200 and content.content == b"hi"

    async def test_workbench_leaks_a_jwt_subject_is_not_the_key_of_that_name(self, http, settings, ws) -> None:
        key = await key_caller(settings, WB, [ws])
        private = ok(await http.post(API, headers=key.headers, json={"name": "key-private"}), 201)
        same_name = {**token({"sub": key.name, "workspaces": [ws]}), "X-Organization-Id": ws}
        listed = ok(await http.get(API, headers=same_name))
        assert private["id"] not in {e["id"] for e in listed["experiments"]}
        assert problem(await http.get(f"{API}/{private['id']}", headers=same_name), 404).endswith("not found.")
        assert problem(await http.delete(f"{API}/{private['id']}", headers=same_name), 404).endswith("not found.")
        # The token's own experiments are owned by jwt:<sub>, which the key is not.
        made = ok(await http.post(API, headers=same_name, json={"name": "key-private"}), 201)  # no name clash either
        got = ok(await http.get(f"{API}/{made['id']}", headers=same_name))
        assert got["owner"] == f"jwt:{key.name}"
        assert problem(await http.get(f"{API}/{made['id']}", headers=key.headers), 404).endswith("not found.")
        # Sharing names the principal as shown: jwt:<sub> for a token, the key's name for a key.
        ok(await http.put(f"{API}/{private['id']}", headers=key.headers, json={"shared_with": [f"jwt:{key.name}"]}))
        assert ok(await http.get(f"{API}/{private['id']}", headers=same_name))["owner"] == key.name
