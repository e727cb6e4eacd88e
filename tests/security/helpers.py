"""Shared pieces of the security tests: problem checks, users with passwords, page login."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx

from watchbill.access import Principal, Role
from watchbill.adapters.db.engine import Database
from watchbill.auth import service as auth
from watchbill.context import Ctx
from watchbill.core.clock import Clock
from watchbill.resources import service as resources
from watchbill.users.resource import USERS
from watchbill.users.schemas import UserSpec

PROBLEM = "application/problem+json"
PASSWORD = "a long enough passphrase"
TokenFor = Callable[[Role], dict[str, str]]
"""The `token_for` fixture: bearer headers for a fresh token with the given role."""
SETUP = Principal(kind="cli", name="security-tests", role=Role.OWNER, source_ip="local")


def assert_problem(resp: httpx.Response, status: int) -> dict[str, object]:
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url}: {resp.text}"
    assert resp.headers["content-type"].startswith(PROBLEM), resp.headers["content-type"]
    body = resp.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    return body  # type: ignore[no-any-return]


def make_user(db: Database, clock: Clock, role: Role, password: str = PASSWORD) -> str:
    name = f"{role.value}-{uuid.uuid4().hex[:6]}"
    with db.transaction() as session:
        ctx = Ctx(session, SETUP, clock)
        spec = UserSpec(email=f"{name}@example.com", role=role)
        user = resources.put(ctx, USERS, name, spec).obj
        auth.set_password(ctx, user, password)
    return name


def hidden_field(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden {name!r} field in the page"
    return match[1]


def login(
    client: httpx.Client, username: str, password: str = PASSWORD, next_: str = "/"
) -> httpx.Response:
    """Sign in through the form (GET for the login CSRF cookie, then POST); no redirects."""
    page = client.get("/login", params={"next": next_})
    assert page.status_code == 200
    return client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf": hidden_field(page.text, "csrf"),
            "next": next_,
        },
        follow_redirects=False,
    )


def page_csrf(client: httpx.Client, path: str = "/") -> str:
    """The session's CSRF token, as every signed-in page carries it (in the logout form)."""
    page = client.get(path, follow_redirects=False)
    assert page.status_code == 200, page.text
    return hidden_field(page.text, "csrf")
