"""Reading alerts: the API's filters and cursor, one alert with its payload, the pages
and the CLI (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.routing.helpers import (
    fire,
    fresh_rule_cache,
    make_rule,
    make_services,
    pointers,
    problem,
    run_cli,
)
from tests.security.helpers import login, make_user
from watchbill.access import Role
from watchbill.adapters.db.engine import Database
from watchbill.alerts.ingest import Target, ingest
from watchbill.core.clock import FakeClock
from watchbill.intake.events import RESOLVE, AlertEvent

__all__ = ["fresh_rule_cache", "run_cli"]


@pytest.fixture
def alerts(db: Database, clock: FakeClock) -> dict[str, Any]:
    """Six alerts on two services; one resolved, one suppressed by a rule."""
    ids = make_services(db, clock, "api", "db")
    make_rule(db, clock, "quiet-dev", match={"labels": ["env=dev"]}, suppress=True)
    fired = {}
    for key, svc, severity, summary, labels in [
        ("a1", "api", "critical", "API down", {}),
        ("a2", "api", "warning", "Latency 99% over SLO", {}),
        ("a3", "db", "critical", "Disk full on db-1", {}),
        ("a4", "db", "info", "Backup finished", {}),
        ("a5", "api", "error", "Dev box unhappy", {"env": "dev"}),
        ("a6", "db", "warning", "disk 80% on db-2", {}),
    ]:
        clock.advance(1)
        fired[key] = fire(
            db, clock, ids[svc], key=key, severity=severity, summary=summary, labels=labels
        )
    with db.engine.begin() as conn:
        ingest(
            conn,
            [(Target(ids["db"], None, "test"), AlertEvent(action=RESOLVE, dedup_key="a4"))],
            clock.now(),
        )
    return fired


def keys(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    resp = client.get("/api/v1/alerts", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return [a["dedupKey"] for a in resp.json()["items"]]


def test_filters_and_cursor(client: TestClient, token_for: Any, alerts: dict[str, Any]) -> None:
    viewer = token_for(Role.VIEWER)
    assert keys(client, viewer) == ["a6", "a5", "a4", "a3", "a2", "a1"]
    assert keys(client, viewer, status="resolved") == ["a4"]
    assert keys(client, viewer, status="firing", service="db") == ["a6", "a3"]
    assert keys(client, viewer, severity="critical") == ["a3", "a1"]
    assert keys(client, viewer, text="DISK") == ["a6", "a3"]
    assert keys(client, viewer, text="99%") == ["a2"]  # % is literal, not a wildcard
    assert keys(client, viewer, text="_") == []
    assert keys(client, viewer, suppressed="true") == ["a5"]
    assert keys(client, viewer, incident=alerts["a3"].incident.id) == ["a3"]
    assert keys(client, viewer, service="nowhere") == []

    seen, cursor = [], None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/alerts", params=params, headers=viewer).json()
        seen.append([a["dedupKey"] for a in page["items"]])
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [["a6", "a5", "a4", "a3"], ["a2", "a1"]]

    item = client.get("/api/v1/alerts", params={"service": "api", "limit": 2}, headers=viewer)
    first = item.json()["items"][0]
    assert (
        first["service"] == "api"
        and first["suppressed"] == "suppressed by routing rule 'quiet-dev'"
    )
    assert first["incidentId"] == alerts["a5"].incident.id and "raw" not in first

    cases: list[tuple[dict[str, Any], str]] = [
        ({"status": "open"}, "status"),
        ({"severity": "fatal"}, "severity"),
        ({"incident": 0}, "incident"),
        ({"incident": "x"}, "incident"),
        ({"service": "Not A Name"}, "service"),
        ({"limit": 0}, "limit"),
        ({"cursor": "!!"}, "cursor"),
        ({"cursor": "eyJhZnRlciI6ICJ4In0"}, "cursor"),
    ]
    for params, pointer in cases:
        body = problem(client.get("/api/v1/alerts", params=params, headers=viewer), 422)
        assert pointer in pointers(body), (params, body)
    problem(client.get("/api/v1/alerts"), 401)


def test_one_alert_with_its_payload(
    client: TestClient, token_for: Any, alerts: dict[str, Any]
) -> None:
    viewer = token_for(Role.VIEWER)
    aid = alerts["a3"].alert.id
    got = client.get(f"/api/v1/alerts/{aid}", headers=viewer)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["raw"] == {"summary": "Disk full on db-1"}
    assert (body["service"], body["status"], body["severity"], body["count"]) == (
        "db",
        "firing",
        "critical",
        1,
    )
    assert body["incidentId"] == alerts["a3"].incident.id
    for missing in ("999999", "probe", "-1", "1e3", "99999999999999999999"):
        problem(client.get(f"/api/v1/alerts/{missing}", headers=viewer), 404)


def test_alert_pages(
    client: TestClient, db: Database, clock: FakeClock, alerts: dict[str, Any]
) -> None:
    assert login(client, make_user(db, clock, Role.VIEWER)).status_code == 303
    page = client.get("/alerts")
    assert page.status_code == 200
    assert "Disk full on db-1" in page.text and "every 15s" in page.text
    assert f'href="/incidents/{alerts["a5"].incident.id}"' in page.text
    assert "no: suppressed by routing rule &#39;quiet-dev&#39;" in page.text
    rows = client.get("/alerts?service=db&status=firing", headers={"HX-Request": "true"})
    assert rows.status_code == 200 and "<html" not in rows.text
    assert "disk 80% on db-2" in rows.text and "API down" not in rows.text

    detail = client.get(f"/alerts/{alerts['a3'].alert.id}")
    assert detail.status_code == 200 and "Payload as received" in detail.text
    assert client.get("/alerts/nope").status_code == 404

    rules = client.get("/routing-rules")
    assert rules.status_code == 200 and "quiet-dev" in rules.text and "suppress" in rules.text


def test_alerts_cli(run_cli: Any, alerts: dict[str, Any]) -> None:
    listed = run_cli("alerts", "list", "--service", "db")
    assert listed.exit_code == 0, listed.output
    assert "Disk full on db-1" in listed.output and "API down" not in listed.output
    shown = run_cli("alerts", "show", str(alerts["a1"].alert.id))
    assert shown.exit_code == 0 and '"summary": "API down"' in shown.output
    missing = run_cli("alerts", "show", "424242")
    assert missing.exit_code == 1 and "does not exist" in missing.output
