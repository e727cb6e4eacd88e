"""Page security: sign-in, session cookies, CSRF on every form, redirects."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.security.helpers import hidden_field, login, make_user, page_csrf
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.auth.models import ApiToken, WebSession
from watchbill.core.clock import FakeClock

# Page behaviour does not depend on the database: these run on SQLite only, for speed.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _lands_on_site(location: str) -> bool:
    """Where a browser goes: WHATWG URL parsing drops tabs and newlines and reads a
    backslash as a slash, so `/\t/evil` and `/\\evil` both mean `//evil`."""
    cleaned = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
    return urlsplit(urljoin("http://testserver/login", cleaned)).netloc == "testserver"


def _count(db: Database, model: type) -> int:
    with db.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def _token_names(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(conn.scalars(select(ApiToken.name)))


@pytest.fixture
def owner(client: TestClient, db: Database, clock: FakeClock) -> str:
    """An owner signed in through the form; the client now carries their session."""
    name = make_user(db, clock, Role.OWNER)
    assert login(client, name).status_code == 303
    return name


@pytest.mark.parametrize("path", ["/", "/services", "/services/checkout", "/tokens", "/audit"])
def test_pages_without_a_session_redirect_to_login(client: TestClient, path: str) -> None:
    resp = client.get(path, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == f"/login?next={path}"
    client.cookies.set("wb_session", "forged-or-expired")
    resp = client.get(path, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/login?next=")


def test_login_redirects_to_the_requested_page_with_a_strict_cookie(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    name = make_user(db, clock, Role.VIEWER)
    resp = login(client, name, next_="/services")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/services"
    cookies = [c for c in resp.headers.get_list("set-cookie") if c.startswith("wb_session=")]
    assert len(cookies) == 1
    attrs = {a.strip().split("=")[0].lower(): a for a in cookies[0].split(";")[1:]}
    assert "httponly" in attrs, cookies[0]
    assert attrs.get("samesite", "").split("=")[1].strip().lower() in {"lax", "strict"}
    assert attrs.get("path", "").strip().lower() == "path=/"
    assert client.get("/services", follow_redirects=False).status_code == 200


def test_login_csrf_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    resp = client.get("/login")
    cookie = next(c for c in resp.headers.get_list("set-cookie") if c.startswith("wb_login_csrf="))
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=" in lowered


def test_wrong_password_gets_401_and_no_session(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    name = make_user(db, clock, Role.OWNER)
    wrong = login(client, name, password="not the right password")
    assert wrong.status_code == 401
    assert "wb_session" not in wrong.cookies
    assert "Wrong name or password" in wrong.text
    unknown = login(client, "nobody-here", password="not the right password")
    assert unknown.status_code == 401
    assert "wb_session" not in unknown.cookies
    # Same answer for an unknown user as for a wrong password: no account enumeration.
    assert hidden_field(unknown.text, "next") == hidden_field(wrong.text, "next")
    assert "Wrong name or password" in unknown.text
    assert _count(db, WebSession) == 0
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_form_without_its_csrf_cookie_is_refused(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    name = make_user(db, clock, Role.OWNER)
    page = client.get("/login")
    token = hidden_field(page.text, "csrf")
    client.cookies.clear()  # a cross-site form post has no login cookie
    resp = client.post(
        "/login",
        data={"username": name, "password": "a long enough passphrase", "csrf": token},
        follow_redirects=False,
    )
    assert resp.status_code == 403
    assert "wb_session" not in resp.cookies
    assert _count(db, WebSession) == 0


OFF_SITE_TARGETS = [
    "//evil.example",
    "//evil.example/services",
    "https://evil.example/",
    "http:evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "///evil.example",
    "javascript:alert(1)",
]


def test_login_next_never_redirects_off_site(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    name = make_user(db, clock, Role.VIEWER)
    for target in OFF_SITE_TARGETS:
        page = client.get("/login", params={"next": target})
        assert hidden_field(page.text, "next") == "/", target
        resp = login(client, name, next_=target)
        assert resp.status_code == 303
        assert resp.headers["location"] == "/", target

    # "/\t/evil.example" is kept as a path; it is harmless only because the redirect
    # percent-encodes the tab, so the browser sees "/%09/evil.example", not "//evil...".
    resp = login(client, name, next_="/\t/evil.example")
    assert resp.status_code == 303
    assert _lands_on_site(resp.headers["location"]), resp.headers["location"]


def test_token_form_without_or_with_a_wrong_csrf_is_refused(
    client: TestClient, db: Database, clock: FakeClock, owner: str
) -> None:
    good = page_csrf(client, "/tokens")
    # A real token, but of someone else's session.
    other = TestClient(client.app)
    assert login(other, make_user(db, clock, Role.OWNER)).status_code == 303
    foreign = page_csrf(other, "/tokens")
    assert foreign != good

    for csrf in (None, "", "wrong", good[:-1], foreign):
        data = {"name": "forged", "role": "admin"}
        if csrf is not None:
            data["csrf"] = csrf
        resp = client.post("/tokens", data=data, follow_redirects=False)
        assert resp.status_code == 403, (csrf, resp.text)
        assert "wb_" not in resp.text
    assert "forged" not in _token_names(db)

    resp = client.post("/tokens", data={"name": "genuine", "role": "viewer", "csrf": good})
    assert resp.status_code == 200
    assert "genuine" in _token_names(db)

    for csrf in (None, "wrong", foreign):
        data = {} if csrf is None else {"csrf": csrf}
        assert client.post("/tokens/genuine/revoke", data=data).status_code == 403
    with db.engine.connect() as conn:
        revoked = conn.scalar(select(ApiToken.revoked_at).where(ApiToken.name == "genuine"))
    assert revoked is None


def test_logout_needs_the_csrf_token(client: TestClient, db: Database, owner: str) -> None:
    good = page_csrf(client)
    for data in ({}, {"csrf": ""}, {"csrf": "wrong"}):
        resp = client.post("/logout", data=data, follow_redirects=False)
        assert resp.status_code == 403
        assert client.get("/", follow_redirects=False).status_code == 200, "still signed in"
    assert _count(db, WebSession) == 1

    resp = client.post("/logout", data={"csrf": good}, follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/login"
    assert _count(db, WebSession) == 0
    assert client.get("/", follow_redirects=False).status_code == 303


def test_logged_out_session_cookie_cannot_be_replayed(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    resp = login(client, make_user(db, clock, Role.OWNER))
    stolen = resp.cookies["wb_session"]
    csrf = page_csrf(client)
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    client.cookies.set("wb_session", stolen)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_session_expires(client: TestClient, db: Database, clock: FakeClock) -> None:
    assert login(client, make_user(db, clock, Role.OWNER)).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    clock.advance(hours=12)  # the default session lifetime
    assert client.get("/", follow_redirects=False).status_code == 303


def test_viewer_page_session_cannot_manage_tokens(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    assert login(client, make_user(db, clock, Role.VIEWER)).status_code == 303
    csrf = page_csrf(client)
    assert client.get("/tokens").status_code == 403
    assert client.get("/audit").status_code == 403
    resp = client.post("/tokens", data={"name": "mine", "role": "viewer", "csrf": csrf})
    assert resp.status_code == 403
    assert "mine" not in _token_names(db)
