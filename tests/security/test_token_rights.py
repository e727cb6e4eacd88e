"""Whose a token is, and what it may do as its user's rights change."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.security.helpers import SETUP, TokenFor, assert_problem, login, make_user, page_csrf
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.audit.models import AuditEvent
from watchbill.auth import service as auth
from watchbill.auth.models import ApiToken, WebSession
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock
from watchbill.errors import Invalid
from watchbill.users.models import User


def _user_token(db: Database, clock: FakeClock, user: str, role: Role, name: str) -> dict[str, str]:
    with db.transaction() as session:
        owner = session.scalar(select(User).where(User.name == user))
        issued = auth.create_token(Ctx(session, SETUP, clock), name=name, role=role, user=owner)
    return {"Authorization": f"Bearer {issued.secret}"}


def test_a_users_token_makes_tokens_for_that_user_within_their_role(
    client: TestClient, db: Database, clock: FakeClock, token_for: TokenFor
) -> None:
    ada = make_user(db, clock, Role.ADMIN)
    laptop = _user_token(db, clock, ada, Role.ADMIN, "ada-laptop")
    made = client.post(
        "/api/v1/tokens", json={"name": "ada-script", "role": "viewer"}, headers=laptop
    )
    assert made.status_code == 201, made.text
    assert made.json()["user"] == ada

    owner = token_for(Role.OWNER)  # a service account's token
    assert (
        client.patch(f"/api/v1/users/{ada}", json={"role": "responder"}, headers=owner).status_code
        == 200
    )
    me = client.get("/api/v1/me", headers=laptop).json()
    assert (me["role"], me["user"]) == ("responder", ada)
    assert_problem(
        client.post("/api/v1/tokens", json={"name": "ada-more", "role": "viewer"}, headers=laptop),
        403,
    )
    made = client.post("/api/v1/tokens", json={"name": "robot", "role": "viewer"}, headers=owner)
    assert made.json()["user"] is None


def test_a_token_for_a_user_cannot_outrank_them(db: Database, clock: FakeClock) -> None:
    bob = make_user(db, clock, Role.VIEWER)
    with pytest.raises(Invalid) as refused:
        _user_token(db, clock, bob, Role.ADMIN, "bob-admin")
    assert refused.value.errors[0].loc == "role"
    assert "at most viewer" in refused.value.errors[0].msg


def test_deactivating_revokes_tokens_and_ends_sessions_with_audit(
    client: TestClient, db: Database, clock: FakeClock, token_for: TokenFor
) -> None:
    ada = make_user(db, clock, Role.ADMIN)
    laptop = _user_token(db, clock, ada, Role.ADMIN, "ada-laptop")
    assert login(client, ada).status_code == 303
    page_csrf(client)
    owner = token_for(Role.OWNER)
    resp = client.patch(f"/api/v1/users/{ada}", json={"active": False}, headers=owner)
    assert resp.status_code == 200, resp.text
    assert client.get("/", follow_redirects=False).status_code == 303
    assert_problem(client.get("/api/v1/me", headers=laptop), 401)
    with db.read() as session:
        assert session.scalar(select(ApiToken.revoked_at).where(ApiToken.name == "ada-laptop"))
        assert not session.scalars(select(WebSession)).all()
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-3:] == ["token.revoke", "session.end_all", "user.update"]


def test_a_new_password_ends_the_users_sessions(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    ada = make_user(db, clock, Role.VIEWER)
    assert login(client, ada).status_code == 303
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.name == ada))
        assert user is not None
        auth.set_password(Ctx(session, SETUP, clock), user, "another long passphrase")
    assert client.get("/", follow_redirects=False).status_code == 303


def test_deleting_a_user_deletes_their_tokens(
    client: TestClient, db: Database, clock: FakeClock, token_for: TokenFor
) -> None:
    ada = make_user(db, clock, Role.ADMIN)
    laptop = _user_token(db, clock, ada, Role.ADMIN, "ada-laptop")
    assert client.delete(f"/api/v1/users/{ada}", headers=token_for(Role.OWNER)).status_code == 204
    assert_problem(client.get("/api/v1/me", headers=laptop), 401)
    with db.read() as session:
        assert session.scalar(select(ApiToken).where(ApiToken.name == "ada-laptop")) is None


def test_the_chain_check_is_for_admins(
    client: TestClient, db: Database, clock: FakeClock, token_for: TokenFor
) -> None:
    assert_problem(client.get("/api/v1/audit/verify", headers=token_for(Role.RESPONDER)), 403)
    verdict = client.get("/api/v1/audit/verify", headers=token_for(Role.ADMIN)).json()
    assert verdict["intact"] is True and verdict["entries"] >= 2 and verdict["firstBad"] is None
    assert login(client, make_user(db, clock, Role.RESPONDER)).status_code == 303
    assert client.get("/audit/verify").status_code == 403
