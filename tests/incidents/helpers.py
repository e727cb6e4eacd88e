"""Realistic incident data for the tests: services, and alerts through the real intake."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from watchbill.access import Principal, Role
from watchbill.adapters.db.engine import Database
from watchbill.alerts.ingest import Outcome, Target, ingest
from watchbill.alerts.models import MaintenanceWindow
from watchbill.audit.models import AuditEvent
from watchbill.catalog.resources import SERVICES
from watchbill.catalog.schemas import ServiceSpec
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock
from watchbill.incidents.models import Incident, IncidentEvent
from watchbill.intake.events import RESOLVE, TRIGGER, AlertEvent
from watchbill.resources import service as resources
from watchbill.users.resource import USERS
from watchbill.users.schemas import UserSpec

SETUP = Principal(kind="cli", name="setup", role=Role.OWNER, source_ip="local")
ADA = Principal(kind="user", name="ada", role=Role.RESPONDER, source_ip="10.0.0.1")
VIC = Principal(kind="user", name="vic", role=Role.VIEWER, source_ip="10.0.0.2")


def make_service(db: Database, clock: FakeClock, name: str = "checkout", **spec: Any) -> int:
    with db.transaction() as session:
        ctx = Ctx(session, SETUP, clock)
        return int(resources.put(ctx, SERVICES, name, ServiceSpec(**spec)).obj.id)


def make_user(db: Database, clock: FakeClock, name: str, role: Role = Role.RESPONDER) -> None:
    with db.transaction() as session:
        ctx = Ctx(session, SETUP, clock)
        resources.put(ctx, USERS, name, UserSpec(email=f"{name}@example.com", role=role))


def event(
    key: str,
    summary: str | None = None,
    *,
    severity: str = "critical",
    labels: dict[str, str] | None = None,
    action: str = TRIGGER,
) -> AlertEvent:
    return AlertEvent(
        action=action,
        dedup_key=key,
        summary=summary if summary is not None else f"{key} is failing",
        severity=severity,
        labels=labels or {"alertname": key},
    )


def fire(db: Database, clock: FakeClock, service_id: int, *events: AlertEvent) -> list[Outcome]:
    """Send events through the real intake pipeline, one committed batch."""
    target = Target(service_id=service_id, integration_id=None, actor="test")
    with db.transaction() as session:
        return ingest(session.connection(), [(target, e) for e in events], clock.now())


def resolve_alert(db: Database, clock: FakeClock, service_id: int, key: str) -> None:
    fire(db, clock, service_id, event(key, action=RESOLVE))


def maintenance(db: Database, clock: FakeClock, service_id: int, description: str) -> None:
    now = clock.now()
    with db.transaction() as session:
        session.add(
            MaintenanceWindow(
                service_id=service_id,
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(hours=1),
                description=description,
                created_by="user:ada",
                created_at=now,
            )
        )


@contextmanager
def acting(db: Database, clock: FakeClock, who: Principal = ADA) -> Iterator[Ctx]:
    with db.transaction() as session:
        yield Ctx(session, who, clock)


@contextmanager
def reading(db: Database, clock: FakeClock) -> Iterator[Ctx]:
    with db.read() as session:
        yield Ctx(session, SETUP, clock)


def snapshot(db: Database, incident_id: int) -> dict[str, Any]:
    """What a refused action must leave untouched: the row, its timeline and the audit log."""
    with db.read() as session:
        inc = session.get(Incident, incident_id)
        assert inc is not None
        row = {c.name: getattr(inc, c.key) for c in Incident.__table__.columns}
        events = session.scalar(
            select(func.count())
            .select_from(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
        )
        audits = session.scalar(select(func.count()).select_from(AuditEvent))
    return {"row": row, "events": events, "audits": audits}


def timeline_kinds(db: Database, incident_id: int) -> list[str]:
    with db.read() as session:
        return list(
            session.scalars(
                select(IncidentEvent.kind)
                .where(IncidentEvent.incident_id == incident_id)
                .order_by(IncidentEvent.id)
            )
        )


def audit_actions(db: Database, incident_id: int) -> list[str]:
    with db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "Incident")
                .where(AuditEvent.object_id == str(incident_id))
                .order_by(AuditEvent.id)
            )
        )
