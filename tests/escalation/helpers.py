"""An organisation built through the API as an admin would: two people with webhook
contact methods, a schedule, a policy and a service that names it; alerts through the
real intake endpoint; the job worker driven by hand with the fake clock."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.incidents.models import Incident, IncidentEvent
from watchbill.jobs.worker import Worker
from watchbill.notify.models import Delivery

KEY = "checkoutpdkey0000000000000000000"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def person(client: TestClient, admin: dict[str, str], name: str, url: str, **spec: Any) -> None:
    body = {
        "email": f"{name}@example.com",
        "contactMethods": [{"label": "hook", "type": "webhook", "address": url}],
        **spec,
    }
    ok(client.put(f"/api/v1/users/{name}", json=body, headers=admin), 201)


def schedule(client: TestClient, admin: dict[str, str], name: str, users: list[str]) -> None:
    body = {
        "timeZone": "UTC",
        "layers": [
            {"name": "day", "users": users, "rotationStart": "2025-12-29", "turn": {"days": 1}}
        ],
    }
    ok(client.put(f"/api/v1/schedules/{name}", json=body, headers=admin), 201)


def policy(client: TestClient, admin: dict[str, str], name: str, **spec: Any) -> None:
    response = client.put(f"/api/v1/escalation-policies/{name}", json=spec, headers=admin)
    assert response.status_code in (200, 201), response.text


def service(client: TestClient, admin: dict[str, str], policy_name: str | None) -> None:
    body = {
        "escalationPolicy": policy_name,
        "integrations": [{"name": "pd", "type": "events-v2", "key": KEY}],
    }
    response = client.put("/api/v1/services/checkout", json=body, headers=admin)
    assert response.status_code in (200, 201), response.text


def alert(client: TestClient, admin: dict[str, str], dedup_key: str = "checkout-down") -> int:
    """Trigger through /v2/enqueue; the id of the newest incident."""
    event = {
        "routing_key": KEY,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {"summary": "Checkout is down", "source": "web-1", "severity": "critical"},
    }
    ok(client.post("/v2/enqueue", json=event), 202)
    return int(ok(client.get("/api/v1/incidents", headers=admin))["items"][0]["id"])


def drain(db: Database, clock: FakeClock) -> int:
    """Run every job due now until none is left, as a worker would (deliveries a step
    queues run in the next round)."""
    worker, total = Worker(db, clock), 0
    while True:
        ran = worker.run_once()
        if not ran:
            return total
        total += ran


def paged(db: Database, incident_id: int) -> list[tuple[str, str]]:
    """(user, status) of every delivery for the incident, in order."""
    with db.read() as s:
        rows = s.scalars(
            select(Delivery).where(Delivery.incident_id == incident_id).order_by(Delivery.id)
        )
        return [(d.user_name, d.status) for d in rows]


def timeline(db: Database, incident_id: int, kind: str | None = None) -> list[IncidentEvent]:
    with db.read() as s:
        stmt = select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
        if kind:
            stmt = stmt.where(IncidentEvent.kind == kind)
        return list(s.scalars(stmt.order_by(IncidentEvent.id)))


def status(db: Database, incident_id: int) -> str:
    with db.read() as s:
        inc = s.get(Incident, incident_id)
        assert inc is not None
        return inc.status
