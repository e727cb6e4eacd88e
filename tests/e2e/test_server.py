"""End to end: a real `watchbill serve` process, driven over real HTTP with httpx."""

from __future__ import annotations

import re
import ssl
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.server import SETUP_LINK, Server
from watchbill.app.assembly import migrations

pytestmark = pytest.mark.e2e

PROBLEM = "application/problem+json"


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _assert_problem(resp: httpx.Response, status: int) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["status"] == status
    assert body["title"]
    return body  # type: ignore[no-any-return]


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name!r} in page"
    return match[1]


def test_readyz_reports_the_migrated_database(any_server: Server) -> None:
    with any_server.client() as http:
        resp = http.get("/readyz")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "ok"
    expected = "sqlite" if "WATCHBILL_DATABASE_URL" not in any_server.env else "postgresql"
    assert body["database"] == expected
    assert body["revision"] == migrations().heads()


def test_token_created_with_the_cli_authenticates(server: Server) -> None:
    name = _unique("e2e-viewer")
    secret = server.token("viewer", name=name)
    assert secret.startswith("wb_")
    with server.client(secret) as http:
        me = http.get("/api/v1/me")
        assert me.status_code == 200, me.text
        assert me.json() == {"kind": "token", "name": name, "role": "viewer", "user": None}
        assert http.get("/api/v1/services").status_code == 200
        _assert_problem(http.post("/api/v1/teams", json={"name": _unique("t")}), 403)
    with server.client() as http:
        resp = _assert_problem(http.get("/api/v1/me"), 401)
        assert resp["instance"] == "/api/v1/me"
    with server.client(secret[:-1] + ("A" if secret[-1] != "A" else "B")) as http:
        _assert_problem(http.get("/api/v1/me"), 401)


def test_create_team_and_service_over_the_api_and_read_them_back(any_server: Server) -> None:
    admin = any_server.admin_token()
    team, upstream, svc = _unique("team"), _unique("db"), _unique("svc")
    with any_server.client(admin) as http:
        resp = http.post(
            "/api/v1/teams", json={"name": team, "displayName": "Payments", "description": "money"}
        )
        assert resp.status_code == 201, resp.text
        resp = http.post("/api/v1/services", json={"name": upstream, "ownerTeam": team})
        assert resp.status_code == 201, resp.text
        resp = http.post(
            "/api/v1/services",
            json={
                "name": svc,
                "ownerTeam": team,
                "tier": 1,
                "dependsOn": [upstream],
                "revenuePerHour": 1234.5,
                "runbookUrl": "https://runbooks.example/checkout",
            },
        )
        assert resp.status_code == 201, resp.text
        _assert_problem(http.post("/api/v1/services", json={"name": svc}), 409)

    # A new connection (nothing cached client-side) reads what was written.
    with any_server.client(admin) as http:
        got = http.get(f"/api/v1/services/{svc}").json()
        assert got["ownerTeam"] == team
        assert got["tier"] == 1
        assert got["dependsOn"] == [upstream]
        assert got["revenuePerHour"] == 1234.5
        assert got["runbookUrl"] == "https://runbooks.example/checkout"
        assert http.get(f"/api/v1/teams/{team}").json()["displayName"] == "Payments"
        listed = http.get("/api/v1/services", params={"team": team}).json()["items"]
        assert sorted(s["name"] for s in listed) == sorted([svc, upstream])
        _assert_problem(http.get(f"/api/v1/services/{_unique('nope')}"), 404)

    # The CLI, reading the same configured database, sees the server's writes.
    shown = any_server.cli("services", "show", svc, "--json").stdout
    assert f'"ownerTeam": "{team}"' in shown


def _sample(metrics_text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def test_metrics_need_a_token_and_count_requests_and_jobs(server: Server) -> None:
    with server.client() as anon:
        _assert_problem(anon.get("/metrics"), 401)
        assert anon.get("/readyz").status_code == 200
    viewer = server.token("viewer")
    with server.client(viewer) as http:
        first = http.get("/metrics")
        assert first.status_code == 200, first.text
        assert first.headers["content-type"].startswith("text/plain")
        text = first.text
        assert "watchbill_http_requests_total" in text
        assert "# TYPE watchbill_jobs gauge" in text
        before = _sample(
            text, "watchbill_http_requests_total", method="GET", route="/readyz", status="200"
        )
        assert before is not None and before >= 1
        assert _sample(text, "watchbill_jobs", state="pending") is not None
        for _ in range(3):
            assert http.get("/readyz").status_code == 200
        after = _sample(
            http.get("/metrics").text,
            "watchbill_http_requests_total",
            method="GET",
            route="/readyz",
            status="200",
        )
        assert after == before + 3


def test_setup_link_on_stdout_creates_the_owner_exactly_once(server: Server) -> None:
    link = server.wait_for_output(SETUP_LINK)[1]
    assert link.startswith(server.base_url + "/setup?token=")
    token = parse_qs(urlsplit(link).query)["token"][0]
    password = "correct horse battery"
    with server.client() as http:
        page = http.get(link)
        assert page.status_code == 200
        assert _hidden(page.text, "token") == token

        first = http.post(
            "/setup",
            data={"token": token, "name": "ada", "email": "ada@example.com", "password": password},
        )
        assert first.status_code == 303, first.text
        assert first.headers["location"] == "/login"

        again = http.post(
            "/setup",
            data={"token": token, "name": "eve", "email": "eve@example.com", "password": password},
        )
        assert again.status_code == 403
        assert "used, expired or unknown" in again.text

        # The owner can sign in with the chosen password.
        login = http.get("/login")
        resp = http.post(
            "/login",
            data={
                "username": "ada",
                "password": password,
                "csrf": _hidden(login.text, "csrf"),
                "next": "/",
            },
        )
        assert resp.status_code == 303, resp.text
        assert "wb_session" in resp.cookies

    with server.client(server.admin_token()) as http:
        users = http.get("/api/v1/users").json()["items"]
    assert [(u["name"], u["role"]) for u in users if u["role"] == "owner"] == [("ada", "owner")]
    assert "eve" not in {u["name"] for u in users}


def test_https_with_a_self_signed_certificate(tls_server: Server) -> None:
    assert tls_server.base_url.startswith("https://127.0.0.1:")
    with tls_server.client() as http:  # verifies against the generated certificate
        resp = http.get("/healthz")
        assert resp.status_code == 200
        assert resp.json() == {"status": "ok"}
        assert resp.url.scheme == "https"
        login = http.get("/login")
        assert login.status_code == 200
        cookie = login.headers["set-cookie"].lower()
        assert "secure" in cookie, "cookies served over HTTPS must be Secure"

    # The default trust store does not know the certificate: verification really happens.
    with (
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
        httpx.Client(verify=ssl.create_default_context()) as untrusting,
    ):
        untrusting.get(tls_server.base_url + "/healthz")

    # Plain HTTP on the TLS port gets no answer.
    plain = tls_server.base_url.replace("https://", "http://")
    with httpx.Client(timeout=5.0) as http:
        try:
            status = http.get(plain + "/healthz").status_code
        except httpx.HTTPError:
            status = None
    assert status != 200
