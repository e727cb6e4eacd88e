"""Maintenance windows per service: API, validation, roles, page and CLI, and their
effect on intake: only their service's alerts page nobody, only inside the window (on
SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.conftest import make_token
from tests.routing.helpers import (
    fire,
    fresh_rule_cache,
    make_rule,
    make_services,
    pointers,
    problem,
    run_cli,
)
from tests.security.helpers import login, make_user, page_csrf
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.alerts.models import MaintenanceWindow
from watchbill.audit.models import AuditEvent
from watchbill.core.clock import FakeClock

__all__ = ["fresh_rule_cache", "run_cli"]
BASE = "/api/v1/services/db/maintenance-windows"


def iso(clock: FakeClock, **delta: float) -> str:
    return (clock.now() + timedelta(**delta)).isoformat()


def window_count(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(MaintenanceWindow)) or 0)


@pytest.fixture
def responder(db: Database, clock: FakeClock) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(db, clock, Role.RESPONDER, name='grace')}"}


@pytest.fixture
def ids(db: Database, clock: FakeClock) -> dict[str, int]:
    return make_services(db, clock, "db", "api")


def test_create_list_get_and_end(
    client: TestClient,
    responder: dict[str, str],
    token_for: Any,
    clock: FakeClock,
    db: Database,
    ids: dict[str, int],
) -> None:
    made = client.post(
        BASE,
        json={"endsAt": iso(clock, hours=2), "description": "PostgreSQL 17 upgrade"},
        headers=responder,
    )
    assert made.status_code == 201, made.text
    window = made.json()
    assert (window["service"], window["state"], window["createdBy"]) == (
        "db",
        "active",
        "token:grace",
    )
    later = client.post(
        "/api/v1/services/api/maintenance-windows",
        json={"startsAt": iso(clock, days=1), "endsAt": iso(clock, days=1, hours=1)},
        headers=responder,
    ).json()
    assert later["state"] == "pending"

    viewer = token_for(Role.VIEWER)
    wid = window["id"]
    assert client.get(f"{BASE}/{wid}", headers=viewer).json() == window
    assert client.get(f"/api/v1/maintenance-windows/{wid}", headers=viewer).json() == window
    problem(client.get(f"/api/v1/services/api/maintenance-windows/{wid}", headers=viewer), 404)

    def listed(url: str, **params: Any) -> list[int]:
        return [w["id"] for w in client.get(url, params=params, headers=viewer).json()["items"]]

    assert listed("/api/v1/maintenance-windows") == [later["id"], wid]
    assert listed("/api/v1/maintenance-windows", service="db") == [wid]
    assert listed("/api/v1/maintenance-windows", state="pending") == [later["id"]]
    assert listed(BASE) == [wid]
    assert listed(BASE, state="expired") == []
    problem(client.get("/api/v1/services/nowhere/maintenance-windows", headers=viewer), 404)

    clock.advance(minutes=10)
    assert client.delete(f"{BASE}/{wid}", headers=responder).status_code == 204
    ended = client.get(f"{BASE}/{wid}", headers=viewer).json()
    assert ended["state"] == "expired"
    assert datetime.fromisoformat(ended["endsAt"]) == clock.now()
    problem(client.delete(f"{BASE}/{wid}", headers=responder), 409)
    problem(client.delete(f"{BASE}/{later['id']}", headers=responder), 404)  # not db's
    problem(client.delete(f"{BASE}/probe", headers=responder), 404)
    with db.read() as s:
        actions = s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "MaintenanceWindow")
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["maintenance.create", "maintenance.create", "maintenance.end"]


def test_bad_windows_are_refused_and_viewers_cannot_plan(
    client: TestClient,
    responder: dict[str, str],
    token_for: Any,
    clock: FakeClock,
    db: Database,
    ids: dict[str, int],
) -> None:
    good = {"endsAt": iso(clock, hours=1)}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"endsAt": iso(clock, hours=-1)}, "#/endsAt"),
        ({"startsAt": iso(clock, hours=2), "endsAt": iso(clock, hours=1)}, "#/endsAt"),
        ({"endsAt": "2026-03-02T12:00:00"}, "#/endsAt"),
        ({"startsAt": "soon"}, "#/startsAt"),
        ({"description": "x" * 2001}, "#/description"),
        ({"service": "api"}, "#/service"),
    ]
    for change, pointer in cases:
        resp = client.post(BASE, json={**good, **change}, headers=responder)
        assert pointer in pointers(problem(resp, 422)), (change, resp.text)
    problem(
        client.post("/api/v1/services/nowhere/maintenance-windows", json=good, headers=responder),
        404,
    )
    problem(client.post(BASE, json=good, headers=token_for(Role.VIEWER)), 403)
    assert window_count(db) == 0
    wid = client.post(BASE, json=good, headers=responder).json()["id"]
    problem(client.delete(f"{BASE}/{wid}", headers=token_for(Role.VIEWER)), 403)


def test_window_suppresses_only_its_service_only_inside_it(
    client: TestClient,
    responder: dict[str, str],
    clock: FakeClock,
    db: Database,
    ids: dict[str, int],
) -> None:
    wid = client.post(
        BASE,
        json={
            "startsAt": iso(clock, minutes=30),
            "endsAt": iso(clock, minutes=90),
            "description": "failover test",
        },
        headers=responder,
    ).json()["id"]
    assert fire(db, clock, ids["db"], key="before").paged

    clock.advance(minutes=30)
    quiet = fire(db, clock, ids["db"], key="during", labels={"alertname": "Failover"})
    assert not quiet.paged
    assert quiet.alert.suppressed == f"maintenance window #{wid}: failover test"
    assert quiet.incident.suppressed == quiet.alert.suppressed
    assert "incident.suppressed" in [e.kind for e in quiet.timeline]
    assert fire(db, clock, ids["api"], key="other-service").paged

    # An alert rerouted onto the service under maintenance is suppressed too.
    make_rule(db, clock, "api-db-errors", match={"labels": ["component=db"]}, set={"service": "db"})
    moved = fire(db, clock, ids["api"], key="moved", labels={"component": "db"})
    assert moved.service == "db" and not moved.paged

    clock.advance(minutes=60)  # ends exactly now
    assert fire(db, clock, ids["db"], key="after").paged


def test_maintenance_page_and_cli(
    client: TestClient, run_cli: Any, db: Database, clock: FakeClock, ids: dict[str, int]
) -> None:
    assert login(client, make_user(db, clock, Role.RESPONDER)).status_code == 303
    csrf = page_csrf(client, "/maintenance")
    form = {"csrf": csrf, "service": "db", "description": "page window", "duration": "4h"}
    assert client.post("/maintenance", data=form, follow_redirects=False).status_code == 303
    page = client.get("/maintenance?service=db")
    assert "page window" in page.text and ">active<" in page.text
    bad = client.post("/maintenance", data={**form, "service": "nowhere"}, follow_redirects=False)
    assert bad.status_code == 404 and "nowhere" in bad.text
    bad = client.post("/maintenance", data={**form, "ends": "2020-01-01T00:00"})
    assert bad.status_code == 422
    assert window_count(db) == 1

    made = run_cli("maintenance", "create", "api", "--duration", "2h", "--description", "cli")
    assert made.exit_code == 0, made.output
    assert made.output.startswith("created maintenance window 2 on api")
    listed = run_cli("maintenance", "list", "--service", "api")
    assert "cli" in listed.output and "active" in listed.output
    assert run_cli("maintenance", "end", "2").exit_code == 0
    assert "expired" in run_cli("maintenance", "list", "--service", "api").output
    bad_cli = run_cli("maintenance", "create", "nowhere", "--duration", "1h")
    assert bad_cli.exit_code == 1 and "nowhere" in bad_cli.output
    bad_cli = run_cli("maintenance", "create", "api")
    assert bad_cli.exit_code == 1 and "--duration" in bad_cli.output
    assert window_count(db) == 2

    with db.read() as s:
        wid = s.scalar(
            select(MaintenanceWindow.id).where(MaintenanceWindow.description == "page window")
        )
    done = client.post(f"/maintenance/{wid}/end", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert "(none)" in run_cli("maintenance", "list", "--state", "active").output
