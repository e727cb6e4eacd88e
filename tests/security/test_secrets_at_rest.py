"""Secrets are stored only as hashes: a copy of the database gives no one a working token."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.security.helpers import PASSWORD, TokenFor, login, make_user
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import metadata
from watchbill.core.clock import FakeClock


def _every_stored_value(db: Database) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every cell of every table."""
    cells = []
    with db.engine.connect() as conn:
        for table in metadata().sorted_tables:
            for row in conn.execute(select(table)).mappings():
                cells.extend((table.name, col, str(val)) for col, val in row.items())
    return cells


def test_api_token_secrets_are_not_stored_in_clear(
    client: TestClient,
    token_for: TokenFor,
    db: Database,
) -> None:
    admin = token_for(Role.ADMIN)
    made = client.post(
        "/api/v1/tokens", json={"name": "ci-deployer", "role": "viewer"}, headers=admin
    )
    assert made.status_code == 201
    secret = made.json()["token"]
    random_part = secret.removeprefix("wb_")
    assert len(random_part) >= 40

    cells = _every_stored_value(db)
    token_rows = [
        c for c in cells if c[0] == "api_tokens" and c[1] == "name" and c[2] == "ci-deployer"
    ]
    assert token_rows, "the scan must see the token's row"
    for table, column, value in cells:
        assert random_part not in value, f"{table}.{column} holds the token secret"
        # No long piece of it either (a truncated or reversed copy would still be a leak).
        assert random_part[8:32] not in value, f"{table}.{column} holds part of the secret"
        assert random_part[::-1][:24] not in value, f"{table}.{column} holds the secret reversed"
    # The listing shows the recognisable prefix only.
    listed = client.get("/api/v1/tokens", headers=admin).json()
    mine = next(t for t in listed if t["name"] == "ci-deployer")
    assert secret.startswith(mine["prefix"]) and len(mine["prefix"]) <= 8
    assert secret not in str(listed)


def test_session_cookies_and_passwords_are_not_stored_in_clear(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    name = make_user(db, clock, Role.VIEWER)
    resp = login(client, name)
    assert resp.status_code == 303
    cookie = resp.cookies["wb_session"]
    assert len(cookie) >= 40
    for table, column, value in _every_stored_value(db):
        assert cookie not in value, f"{table}.{column} holds the session cookie"
        assert PASSWORD not in value, f"{table}.{column} holds the password"
