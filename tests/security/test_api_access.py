"""Who may call which API route: every route is enumerated from /openapi.json, so a new
route is covered the day it is added."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.security.helpers import TokenFor, assert_problem
from watchbill.access import Role
from watchbill.core.clock import FakeClock

MUTATING = {"post", "put", "patch", "delete"}
# Mutating routes a viewer is allowed to call (none so far). Add here, with a reason.
VIEWER_MAY_MUTATE: set[tuple[str, str]] = set()
PROBE_NAME = "probe"


def _sample_value(schema: dict[str, object]) -> str:
    """A well-formed value for a path parameter, so only authorization can refuse."""
    kind = schema.get("type")
    if kind == "integer":
        return "1"
    if schema.get("format") == "uuid":
        return "00000000-0000-4000-8000-000000000001"
    return PROBE_NAME


def api_operations(client: TestClient) -> list[tuple[str, str, bool]]:
    """(method, concrete path, has request body) for every /api/v1 operation in the schema."""
    schema = client.get("/openapi.json").json()
    ops = []
    for template, item in schema["paths"].items():
        if not template.startswith("/api/v1/"):
            continue
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            values = {
                p["name"]: _sample_value(p.get("schema", {}))
                for p in op.get("parameters", [])
                if p["in"] == "path"
            }
            path = template
            for name, value in values.items():
                path = path.replace(f"{{{name}}}", value)
            path = re.sub(r"\{[^}]+\}", PROBE_NAME, path)
            ops.append((method, path, "requestBody" in op))
    return sorted(ops)


def call(
    client: TestClient, method: str, path: str, has_body: bool, headers: dict[str, str]
) -> httpx.Response:
    kwargs = {"json": {}} if has_body else {}
    return client.request(method.upper(), path, headers=headers, **kwargs)


def test_schema_lists_the_expected_routes(client: TestClient) -> None:
    """Guards the enumeration below against vacuously passing on an empty schema."""
    ops = {(m, p) for m, p, _ in api_operations(client)}
    for expected in [
        ("get", "/api/v1/me"),
        ("get", "/api/v1/audit"),
        ("post", "/api/v1/tokens"),
        ("post", f"/api/v1/tokens/{PROBE_NAME}/revoke"),
        ("get", "/api/v1/services"),
        ("post", "/api/v1/services"),
        ("put", f"/api/v1/services/{PROBE_NAME}"),
        ("patch", f"/api/v1/teams/{PROBE_NAME}"),
        ("delete", f"/api/v1/users/{PROBE_NAME}"),
        ("delete", f"/api/v1/components/{PROBE_NAME}"),
    ]:
        assert expected in ops


@pytest.mark.parametrize("authorization", [None, "Bearer wb_not-a-token"])
def test_every_api_route_refuses_callers_without_a_valid_token(
    client: TestClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    ops = api_operations(client)
    assert len(ops) >= 20
    for method, path, has_body in ops:
        resp = call(client, method, path, has_body, headers)
        body = assert_problem(resp, 401)
        assert body["instance"] == path
        assert resp.headers.get("www-authenticate") == "Bearer"


def test_malformed_authorization_headers_are_refused(
    client: TestClient, token_for: TokenFor
) -> None:
    secret = token_for(Role.OWNER)["Authorization"].removeprefix("Bearer ")
    for header in [
        "",
        "Bearer",
        "Bearer ",
        f"Basic {secret}",
        f"Token {secret}",
        secret,
        f"Bearer {secret}x",
        f"Bearer {secret[:-4]}",
        f"Bearer {secret.upper()}",
    ]:
        assert_problem(client.get("/api/v1/me", headers={"Authorization": header}), 401)
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"bearer  {secret} "}).status_code == 200
    )


def test_viewer_token_is_forbidden_on_every_mutating_route(
    client: TestClient, token_for: TokenFor
) -> None:
    viewer, admin = token_for(Role.VIEWER), token_for(Role.ADMIN)
    mutating = [op for op in api_operations(client) if op[0] in MUTATING]
    assert len(mutating) >= 15
    for method, path, has_body in mutating:
        if (method, path) in VIEWER_MAY_MUTATE:
            continue
        assert_problem(call(client, method, path, has_body, viewer), 403)
        # The same request from an admin gets past authorization (to 404, 422, 201...),
        # so the 403 above comes from the role check and not from the request itself.
        assert call(client, method, path, has_body, admin).status_code not in (401, 403)
    # ...while every read route is open to the viewer (except admin-only ones).
    for method, path, _ in api_operations(client):
        if method == "get" and not path.startswith(ADMIN_READS) and not path.endswith(SECRETS):
            assert client.get(path, headers=viewer).status_code in (200, 404), path
        elif method == "get":
            assert_problem(client.get(path, headers=viewer), 403)


ADMIN_READS = ("/api/v1/tokens", "/api/v1/audit")
SECRETS = ("/signing-secret",)  # a webhook receiver's verification secret


def test_admin_only_reads_are_refused_to_responders(
    client: TestClient, token_for: TokenFor
) -> None:
    responder = token_for(Role.RESPONDER)
    assert_problem(client.get("/api/v1/tokens", headers=responder), 403)
    assert_problem(client.get("/api/v1/audit", headers=responder), 403)
    admin = token_for(Role.ADMIN)
    assert client.get("/api/v1/tokens", headers=admin).status_code == 200
    assert client.get("/api/v1/audit", headers=admin).status_code == 200


CATALOG = {
    "teams": {"description": "keeps things running"},
    "services": {"ownerTeam": "core", "tier": 2},
    "components": {"group": "Web", "services": ["api"]},
    "users": {"email": "grace@example.com", "role": "viewer"},
}
EXISTING = {"teams": "core", "services": "api", "components": "website", "users": "grace"}


def test_responder_cannot_change_the_catalog(client: TestClient, token_for: TokenFor) -> None:
    admin, responder = token_for(Role.ADMIN), token_for(Role.RESPONDER)
    for plural in ("users", "teams", "services", "components"):
        resp = client.put(
            f"/api/v1/{plural}/{EXISTING[plural]}", json=CATALOG[plural], headers=admin
        )
        assert resp.status_code == 201, resp.text
    before = {p: client.get(f"/api/v1/{p}/{n}", headers=admin).json() for p, n in EXISTING.items()}

    for plural, name in EXISTING.items():
        base = f"/api/v1/{plural}"
        assert client.get(f"{base}/{name}", headers=responder).status_code == 200
        assert client.get(base, headers=responder).status_code == 200
        assert_problem(
            client.post(base, json={**CATALOG[plural], "name": "newcomer"}, headers=responder),
            403,
        )
        assert_problem(client.put(f"{base}/{name}", json=CATALOG[plural], headers=responder), 403)
        assert_problem(client.put(f"{base}/newcomer", json=CATALOG[plural], headers=responder), 403)
        assert_problem(
            client.patch(f"{base}/{name}", json={"description": "hijacked"}, headers=responder),
            403,
        )
        assert_problem(client.delete(f"{base}/{name}", headers=responder), 403)
        assert_problem(client.get(f"{base}/newcomer", headers=admin), 404)

    after = {p: client.get(f"/api/v1/{p}/{n}", headers=admin).json() for p, n in EXISTING.items()}
    assert after == before
    assert_problem(
        client.post("/api/v1/tokens", json={"name": "sneaky", "role": "viewer"}, headers=responder),
        403,
    )


def test_admin_cannot_mint_an_owner_token(client: TestClient, token_for: TokenFor) -> None:
    admin = token_for(Role.ADMIN)
    body = assert_problem(
        client.post("/api/v1/tokens", json={"name": "escalate", "role": "owner"}, headers=admin),
        403,
    )
    assert "owner" in str(body["detail"])


def test_revoked_token_is_refused(client: TestClient, token_for: TokenFor) -> None:
    admin = token_for(Role.ADMIN)
    made = client.post(
        "/api/v1/tokens", json={"name": "short-lived", "role": "viewer"}, headers=admin
    )
    assert made.status_code == 201, made.text
    secret = made.json()["token"]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=bearer).json()["name"] == "short-lived"

    revoked = client.post("/api/v1/tokens/short-lived/revoke", headers=admin)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revokedAt"] is not None
    assert_problem(client.get("/api/v1/me", headers=bearer), 401)
    assert_problem(client.get("/api/v1/services", headers=bearer), 401)
    assert_problem(client.get("/metrics", headers=bearer), 401)


def test_expired_token_is_refused(
    client: TestClient, token_for: TokenFor, clock: FakeClock
) -> None:
    admin = token_for(Role.ADMIN)
    expires = clock.now() + timedelta(hours=1)
    made = client.post(
        "/api/v1/tokens",
        json={"name": "hour-long", "role": "viewer", "expiresAt": expires.isoformat()},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    bearer = {"Authorization": f"Bearer {made.json()['token']}"}

    clock.advance(minutes=59)
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    clock.advance(minutes=1)
    assert_problem(client.get("/api/v1/me", headers=bearer), 401)
    clock.advance(hours=24)
    assert_problem(client.get("/api/v1/services", headers=bearer), 401)


def test_token_expiry_must_be_in_the_future(
    client: TestClient, token_for: TokenFor, clock: FakeClock
) -> None:
    admin = token_for(Role.ADMIN)
    past = (clock.now() - timedelta(seconds=1)).isoformat()
    assert_problem(
        client.post(
            "/api/v1/tokens",
            json={"name": "stale", "role": "viewer", "expiresAt": past},
            headers=admin,
        ),
        422,
    )
