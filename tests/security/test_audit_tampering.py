"""The audit log against someone holding the database (issue 9, medium), on a real server.

The attacks as found: `REPLACE INTO` rewrote rows on SQLite, back-dated inserts were
accepted, `TRUNCATE` emptied the log on PostgreSQL. Those are refused now; and what the
database owner can still do (switch the triggers off, then edit, remove or forge rows)
is named by `watchbill audit verify`, by the API and on the Audit page.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from tests.e2e.server import Server
from tests.security.conftest import fresh_server

pytestmark = pytest.mark.e2e

COLUMNS = "id, at, actor, action, object_type, object_id, before, after, source_ip"


def _activity(server: Server, n: int = 3) -> None:
    """Audited changes made over the API: teams created and changed."""
    with server.client(server.admin_token()) as api:
        for _ in range(n):
            team = f"team-{uuid.uuid4().hex[:6]}"
            assert api.post("/api/v1/teams", json={"name": team}).status_code == 201
            assert api.patch(f"/api/v1/teams/{team}", json={"description": "x"}).status_code == 200


def _engine(server: Server) -> Engine:
    return create_engine(server.database_url)


def _rows(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r) for r in conn.execute(text(f"SELECT {COLUMNS} FROM audit_events ORDER BY id"))
        ]


def _refused(engine: Engine, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))


def test_the_log_refuses_rewrites_back_dated_inserts_and_truncation(any_server: Server) -> None:
    _activity(any_server)
    engine = _engine(any_server)
    before = _rows(engine)
    assert len(before) >= 5
    first = before[0]
    postgres = engine.dialect.name == "postgresql"
    try:
        if postgres:
            _refused(engine, "TRUNCATE audit_events")
            _refused(
                engine,
                f"INSERT INTO audit_events ({COLUMNS}) SELECT {COLUMNS} FROM audit_events "
                "WHERE id = 1 ON CONFLICT (id) DO UPDATE SET actor = 'user:nobody'",
            )
        else:
            # REPLACE deletes the row in the way without running DELETE triggers.
            _refused(
                engine,
                "REPLACE INTO audit_events (id, at, actor, action, object_type, object_id, "
                f"source_ip) VALUES ({first[0]}, '{first[1]}', 'user:nobody', 'nothing', "
                "'User', 'nobody', '')",
            )
        _refused(
            engine,
            "INSERT INTO audit_events (at, actor, action, object_type, object_id, source_ip) "
            "VALUES ('2020-01-01 00:00:00', 'user:ceo', 'change.approve', 'Change', '1', '')",
        )
        assert _rows(engine) == before
        assert "audit log intact" in any_server.cli("audit", "verify").stdout
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def own_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A server of this test's own: its log is about to be tampered with."""
    with fresh_server(request.param, tmp_path / "data", worker=False) as srv:
        yield srv


def _as_database_owner(engine: Engine, statement: str) -> None:
    """Switch the log's triggers off, as the database's owner can, and run `statement`."""
    _as_database_owner_with(engine, statement, {})


def _as_database_owner_with(engine: Engine, statement: str, params: dict[str, Any]) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            for trigger in ("no_update", "no_delete", "in_order"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS audit_events_{trigger}"))
        conn.execute(text(statement), params)


def _verify(server: Server) -> tuple[int, str]:
    proc = server.cli("audit", "verify", check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_tampering_by_the_database_owner_is_named(own_server: Server) -> None:
    _activity(own_server)
    engine = _engine(own_server)
    try:
        rows = _full_rows(engine)
        assert len(rows) >= 6
        code, out = _verify(own_server)
        assert code == 0, out
        head = out.split("head ")[1].strip()
        last_id = rows[-1]["id"]
        assert head.startswith(f"{last_id}:")

        # An entry edited: named, by the command, the API and the page.
        target = rows[2]
        _as_database_owner(
            engine, f"UPDATE audit_events SET actor = 'user:someone-else' WHERE id = {target['id']}"
        )
        code, out = _verify(own_server)
        assert code == 1 and f"audit entry #{target['id']}:" in out, out
        with own_server.client(own_server.admin_token()) as api:
            verdict = api.get("/api/v1/audit/verify").json()
        assert verdict["intact"] is False
        assert verdict["firstBad"]["id"] == target["id"]
        assert verdict["head"]["id"] == rows[1]["id"]
        _as_database_owner(
            engine, f"UPDATE audit_events SET actor = '{target['actor']}' WHERE id = {target['id']}"
        )
        assert _verify(own_server)[0] == 0

        # An entry removed from the middle: the one after the gap is named.
        _as_database_owner(engine, f"DELETE FROM audit_events WHERE id = {rows[3]['id']}")
        code, out = _verify(own_server)
        assert code == 1 and f"audit entry #{rows[4]['id']}:" in out and "removed" in out, out
        _restore(engine, rows[3])
        assert _verify(own_server)[0] == 0

        # A forged entry at the end, with a well-formed hash but without the server key.
        _as_database_owner(
            engine,
            f"INSERT INTO audit_events ({COLUMNS}, hash, key_id) SELECT id + 1, at, "
            "'user:ceo', 'change.approve', 'Change', '1', NULL, NULL, '', "
            f"'{'ab' * 32}', key_id FROM audit_events WHERE id = {last_id}",
        )
        code, out = _verify(own_server)
        assert code == 1 and f"audit entry #{last_id + 1}:" in out, out

        # Entries removed from the end leave a chain that holds together: the head
        # recorded earlier is what shows it.
        _as_database_owner(engine, f"DELETE FROM audit_events WHERE id >= {last_id}")
        assert _verify(own_server)[0] == 0
        proc = own_server.cli("audit", "verify", "--expect-head", head, check=False)
        assert proc.returncode == 1, proc.stdout
        assert f"entry #{last_id} with the hash recorded is no longer" in proc.stderr
    finally:
        engine.dispose()


def _full_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(text("SELECT * FROM audit_events ORDER BY id"))
        return [dict(r) for r in result.mappings()]


def _restore(engine: Engine, row: dict[str, Any]) -> None:
    """Put a removed row back exactly as it was (SQLite hands JSON back as its text)."""
    values = {
        k: json.dumps(v) if k in ("before", "after") and not isinstance(v, str | None) else v
        for k, v in row.items()
    }
    names = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    _as_database_owner_with(engine, f"INSERT INTO audit_events ({names}) VALUES ({params})", values)
