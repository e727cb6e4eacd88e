"""Silences (Alertmanager-style): the API, its validation and roles, the page, the CLI,
and their effect on intake: matching alerts are recorded but page nobody, only while the
silence is active (on SQLite and PostgreSQL)."""

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
    make_services,
    pointers,
    problem,
    run_cli,
)
from tests.security.helpers import login, make_user, page_csrf
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.alerts.models import Silence
from watchbill.audit.models import AuditEvent
from watchbill.core.clock import FakeClock

__all__ = ["fresh_rule_cache", "run_cli"]


def iso(clock: FakeClock, **delta: float) -> str:
    return (clock.now() + timedelta(**delta)).isoformat()


def silence_count(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(Silence)) or 0)


@pytest.fixture
def responder(db: Database, clock: FakeClock) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(db, clock, Role.RESPONDER, name='ada')}"}


def test_create_read_list_and_expire(
    client: TestClient, responder: dict[str, str], token_for: Any, clock: FakeClock, db: Database
) -> None:
    made = client.post(
        "/api/v1/silences",
        json={
            "matchers": [
                {"name": "service", "value": "db", "isRegex": False, "isEqual": True},
                'alertname=~"Disk.*"',
            ],
            "endsAt": iso(clock, hours=2),
            "comment": "disk replacement, ticket OPS-1",
        },
        headers=responder,
    )
    assert made.status_code == 201, made.text
    silence = made.json()
    assert silence["createdBy"] == "token:ada"
    assert silence["state"] == "active"
    assert silence["matchers"] == [
        {"name": "service", "value": "db", "isRegex": False, "isEqual": True},
        {"name": "alertname", "value": "Disk.*", "isRegex": True, "isEqual": True},
    ]
    viewer = token_for(Role.VIEWER)
    sid = silence["id"]
    assert client.get(f"/api/v1/silences/{sid}", headers=viewer).json() == silence

    pending = client.post(
        "/api/v1/silences",
        json={
            "matchers": ["team=web"],
            "startsAt": iso(clock, days=1),
            "endsAt": iso(clock, days=2),
            "comment": "tomorrow's migration",
        },
        headers=responder,
    ).json()
    assert pending["state"] == "pending"

    def listed(**params: Any) -> list[int]:
        page = client.get("/api/v1/silences", params=params, headers=viewer).json()
        return [s["id"] for s in page["items"]]

    assert listed() == [pending["id"], sid]
    assert listed(state="active") == [sid]
    assert listed(state="pending") == [pending["id"]]
    assert listed(state="expired") == []
    first = client.get("/api/v1/silences", params={"limit": 1}, headers=viewer).json()
    assert [s["id"] for s in first["items"]] == [pending["id"]]
    assert listed(limit=1, cursor=first["nextCursor"]) == [sid]
    problem(client.get("/api/v1/silences", params={"state": "gone"}, headers=viewer), 422)

    clock.advance(minutes=5)
    expired = client.post(f"/api/v1/silences/{sid}/expire", headers=responder)
    assert expired.status_code == 200, expired.text
    assert expired.json()["state"] == "expired"
    assert datetime.fromisoformat(expired.json()["endsAt"]) == clock.now()
    problem(client.post(f"/api/v1/silences/{sid}/expire", headers=responder), 409)
    # DELETE expires too; a pending silence then never starts.
    assert client.delete(f"/api/v1/silences/{pending['id']}", headers=responder).status_code == 204
    gone = client.get(f"/api/v1/silences/{pending['id']}", headers=viewer).json()
    assert gone["state"] == "expired" and gone["startsAt"] == gone["endsAt"]
    assert listed(state="expired") == [pending["id"], sid]
    for missing in ("999", "probe", "0", "99999999999999"):
        problem(client.get(f"/api/v1/silences/{missing}", headers=viewer), 404)
        problem(client.post(f"/api/v1/silences/{missing}/expire", headers=responder), 404)

    with db.read() as s:
        actions = s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "Silence")
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["silence.create", "silence.create", "silence.expire", "silence.expire"]


def test_bad_silences_are_refused_naming_the_field(
    client: TestClient, responder: dict[str, str], clock: FakeClock, db: Database
) -> None:
    good = {"matchers": ["service=db"], "endsAt": iso(clock, hours=1), "comment": "why"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"matchers": []}, "#/matchers"),
        ({"matchers": ['alertname=~"Disk(("']}, "#/matchers/0"),
        ({"matchers": ["service=db", "no operator"]}, "#/matchers/1"),
        ({"matchers": [{"name": "bad name", "value": "x"}]}, "#/matchers/0"),
        ({"matchers": [{"name": "a", "value": "(", "isRegex": True}]}, "#/matchers/0"),
        ({"matchers": ['env=~".*"', 'team=""']}, "#/matchers"),  # matches every alert
        ({"matchers": ["team!=db"]}, "#/matchers"),
        ({"endsAt": iso(clock, hours=-1)}, "#/endsAt"),
        ({"startsAt": iso(clock, hours=3), "endsAt": iso(clock, hours=2)}, "#/endsAt"),
        ({"endsAt": "2026-03-02T12:00:00"}, "#/endsAt"),  # no offset
        ({"endsAt": "tomorrow"}, "#/endsAt"),
        ({"comment": "   "}, "#/comment"),
        ({"comment": "bell\x07"}, "#/comment"),
        ({"createdBy": "someone-else"}, "#/createdBy"),
    ]
    for change, pointer in cases:
        resp = client.post("/api/v1/silences", json={**good, **change}, headers=responder)
        assert pointer in pointers(problem(resp, 422)), (change, resp.text)
    resp = client.post("/api/v1/silences", json={"comment": "x"}, headers=responder)
    assert {"#/matchers", "#/endsAt"} <= pointers(problem(resp, 422))
    assert silence_count(db) == 0
    # A start in the past begins now, as in Alertmanager.
    made = client.post(
        "/api/v1/silences", json={**good, "startsAt": iso(clock, hours=-3)}, headers=responder
    )
    assert made.status_code == 201, made.text
    assert made.json()["startsAt"].startswith(clock.now().isoformat()[:19])


def test_viewers_cannot_create_or_expire(
    client: TestClient, responder: dict[str, str], token_for: Any, clock: FakeClock, db: Database
) -> None:
    viewer = token_for(Role.VIEWER)
    body = {"matchers": ["service=db"], "endsAt": iso(clock, hours=1), "comment": "why"}
    problem(client.post("/api/v1/silences", json=body, headers=viewer), 403)
    assert silence_count(db) == 0
    sid = client.post("/api/v1/silences", json=body, headers=responder).json()["id"]
    problem(client.post(f"/api/v1/silences/{sid}/expire", headers=viewer), 403)
    problem(client.delete(f"/api/v1/silences/{sid}", headers=viewer), 403)
    assert client.get(f"/api/v1/silences/{sid}", headers=viewer).json()["state"] == "active"


def test_silence_suppresses_only_matching_alerts_only_in_its_window(
    client: TestClient, responder: dict[str, str], clock: FakeClock, db: Database
) -> None:
    ids = make_services(db, clock, "db", "api")
    made = client.post(
        "/api/v1/silences",
        json={
            "matchers": ["service=db", 'alertname=~"Disk.*"'],
            "startsAt": iso(clock, hours=1),
            "endsAt": iso(clock, hours=2),
            "comment": "disk swap",
        },
        headers=responder,
    )
    sid = made.json()["id"]
    disk = {"alertname": "DiskFull"}

    assert fire(db, clock, ids["db"], key="before", labels=disk).paged  # pending: not yet

    clock.advance(hours=1)  # starts exactly now
    quiet = fire(db, clock, ids["db"], key="during", labels=disk)
    assert not quiet.paged
    assert quiet.alert.status == "firing"  # recorded all the same
    reason = f"silence #{sid} by token:ada: disk swap"
    assert quiet.alert.suppressed == reason
    assert quiet.incident.suppressed == reason
    assert any(reason in e.message for e in quiet.timeline)
    # Other labels, or another service with the same labels: paged.
    assert fire(db, clock, ids["db"], key="cpu", labels={"alertname": "CPUHigh"}).paged
    assert fire(db, clock, ids["api"], key="api-disk", labels=disk).paged

    clock.advance(hours=1)  # ends exactly now
    assert fire(db, clock, ids["db"], key="after", labels=disk).paged


def test_expiring_a_silence_pages_again_at_once(
    client: TestClient, responder: dict[str, str], clock: FakeClock, db: Database
) -> None:
    ids = make_services(db, clock, "db")
    sid = client.post(
        "/api/v1/silences",
        json={"matchers": ["service=db"], "endsAt": iso(clock, days=1), "comment": "noisy"},
        headers=responder,
    ).json()["id"]
    assert not fire(db, clock, ids["db"], key="a").paged
    clock.advance(seconds=30)
    assert client.post(f"/api/v1/silences/{sid}/expire", headers=responder).status_code == 200
    clock.advance(seconds=1)
    assert fire(db, clock, ids["db"], key="b").paged


def test_silences_page_create_and_expire(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    assert login(client, make_user(db, clock, Role.RESPONDER)).status_code == 303
    csrf = page_csrf(client, "/silences")
    form = {
        "csrf": csrf,
        "matchers": 'service="db"\nalertname=~"Disk.*"\n',
        "comment": "from the page",
        "duration": "2h",
    }
    made = client.post("/silences", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    page = client.get("/silences")
    assert "service=&#34;db&#34;, alertname=~&#34;Disk.*&#34;" in page.text
    assert "from the page" in page.text and ">active<" in page.text
    with db.read() as s:
        sid = s.scalar(select(Silence.id))
    bad = client.post("/silences", data={**form, "matchers": "x=~(("}, follow_redirects=False)
    assert bad.status_code == 422 and "matchers.0" in bad.text
    refused = client.post(f"/silences/{sid}/expire", data={"csrf": "wrong"})
    assert refused.status_code == 403
    done = client.post(f"/silences/{sid}/expire", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert ">expired<" in client.get("/silences?state=expired").text
    assert silence_count(db) == 1


def test_viewer_sees_silences_without_the_form(
    client: TestClient, db: Database, clock: FakeClock
) -> None:
    assert login(client, make_user(db, clock, Role.VIEWER)).status_code == 303
    page = client.get("/silences")
    assert page.status_code == 200 and "New silence" not in page.text
    csrf = page_csrf(client, "/silences")
    resp = client.post(
        "/silences",
        data={"csrf": csrf, "matchers": "service=db", "comment": "x", "duration": "1h"},
    )
    assert resp.status_code == 403
    assert silence_count(db) == 0


def test_silences_cli(run_cli: Any, db: Database) -> None:
    made = run_cli(
        "silences", "create", "service=db", 'alertname=~"Disk.*"',
        "--comment", "cli test", "--duration", "2h",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert made.output.startswith("created silence 1: {")
    listed = run_cli("silences", "list", "--state", "active")
    assert listed.exit_code == 0 and "cli test" in listed.output
    assert 'alertname=~"Disk.*"' in listed.output
    assert run_cli("silences", "expire", "1").exit_code == 0
    assert "(none)" in run_cli("silences", "list", "--state", "active").output
    again = run_cli("silences", "expire", "1")
    assert again.exit_code == 1 and "already expired" in again.output
    bad = run_cli("silences", "create", 'x=~"(("', "--comment", "c")
    assert bad.exit_code == 1 and "matchers.0" in bad.output
    bad = run_cli("silences", "create", "x=1", "--comment", "c", "--duration", "soon")
    assert bad.exit_code == 1 and "--duration" in bad.output
    assert silence_count(db) == 1
