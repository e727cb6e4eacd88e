"""Shared by the intake and integration tests: services with integrations, and the
database read back directly (the HTTP answer alone could hide a half-done write)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from watchbill.adapters.db.engine import Database
from watchbill.app.assembly import metadata

TABLES = ("alerts", "alert_payloads", "incidents", "incident_events", "jobs", "change_events")

# One integration of every type; a heartbeat needs an interval.
ALL_TYPES = [
    {"name": "pd", "type": "events-v2"},
    {"name": "am", "type": "alertmanager"},
    {"name": "gen", "type": "generic"},
    {"name": "hb", "type": "heartbeat", "intervalSeconds": 60},
]


def put_service(
    client: TestClient,
    headers: dict[str, str],
    name: str = "checkout",
    *,
    integrations: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, str]:
    """Create (or replace) a service through the API; its integration keys by name."""
    body = {"integrations": ALL_TYPES if integrations is None else integrations, **spec}
    response = client.put(f"/api/v1/services/{name}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return {i["name"]: i["key"] for i in response.json()["integrations"]}


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def rows(db: Database, table: str, where: str = "", **params: Any) -> list[dict[str, Any]]:
    """Every row of a table in id order, as dicts (JSON columns decoded on both databases).

    Alerts come with their payload columns, as if they were one table."""
    t = metadata().tables[table]
    if table == "alerts":
        p = metadata().tables["alert_payloads"]
        cols = [c for c in p.c if c.name != "alert_id"]
        stmt = t.outerjoin(p, p.c.alert_id == t.c.id).select().with_only_columns(*t.c, *cols)
        stmt = stmt.order_by(t.c.id)
    elif table == "alert_payloads":
        stmt = t.select().order_by(t.c.alert_id)
    else:
        stmt = t.select().order_by(t.c.id)
    if where:
        stmt = stmt.where(text(where)).params(**params)
    with db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Everything intake can write, to compare before and after a request."""
    return {t: rows(db, t) for t in (*TABLES, "integrations")}


def pd_event(key: str, action: str = "trigger", **fields: Any) -> dict[str, Any]:
    """A valid PagerDuty Events API v2 event; keyword arguments replace top-level fields."""
    event: dict[str, Any] = {"routing_key": key, "event_action": action}
    if action == "trigger":
        event["payload"] = {
            "summary": "Checkout latency above 2 s",
            "source": "web-01.example.com",
            "severity": "critical",
        }
    event.update(fields)
    return event


def payload(key: str, **fields: Any) -> dict[str, Any]:
    """A trigger whose payload fields are replaced (None removes one)."""
    event = pd_event(key)
    for name, value in fields.items():
        if value is None:
            event["payload"].pop(name, None)
        else:
            event["payload"][name] = value
    return event
