"""Shared pieces of the routing, silence and maintenance tests: services, alerts sent
through the real intake pipeline (`ingest`), and what it wrote."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import OWNER
from watchbill.adapters.db.engine import Database
from watchbill.alerts import rules
from watchbill.alerts.ingest import INCIDENT_TRIGGERED_JOB, Target, ingest
from watchbill.alerts.models import Alert
from watchbill.catalog.models import Service
from watchbill.catalog.resources import SERVICES
from watchbill.catalog.schemas import ServiceSpec
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock
from watchbill.escalation.resource import ESCALATION_POLICIES
from watchbill.escalation.schemas import EscalationPolicySpec
from watchbill.incidents.models import Incident, IncidentEvent
from watchbill.intake.events import TRIGGER, AlertEvent
from watchbill.jobs.models import Job
from watchbill.resources import service as resources
from watchbill.routing.resource import ROUTING_RULES
from watchbill.routing.schemas import RoutingRuleSpec
from watchbill.settings import get_settings
from watchbill.users.resource import USERS
from watchbill.users.schemas import UserSpec

PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def fresh_rule_cache() -> Iterator[None]:
    """Compiled rules are cached by (row id, updated_at); every test starts its database
    at the same ids and fake instant, so a rule of an earlier test must not be reused."""
    rules._compiled.clear()
    yield
    rules._compiled.clear()


def make_services(
    db: Database, clock: FakeClock, *names: str, policies: dict[str, str] | None = None
) -> dict[str, int]:
    with db.transaction() as session:
        ctx = Ctx(session, OWNER, clock)
        ids = {}
        for name in names:
            svc = resources.put(ctx, SERVICES, name, ServiceSpec()).obj
            svc.escalation_policy = (policies or {}).get(name)
            ids[name] = svc.id
    return ids


def make_policy(db: Database, clock: FakeClock, name: str, user: str = "oncall") -> None:
    """An escalation policy paging one user (created too), for rules and services to name."""
    with db.transaction() as session:
        ctx = Ctx(session, OWNER, clock)
        resources.put(ctx, USERS, user, UserSpec(email=f"{user}@example.com"))
        resources.put(
            ctx,
            ESCALATION_POLICIES,
            name,
            EscalationPolicySpec.model_validate(
                {"levels": [{"targets": [{"type": "user", "name": user}]}]}
            ),
        )


def make_rule(db: Database, clock: FakeClock, name: str, **spec: Any) -> None:
    with db.transaction() as session:
        resources.put(
            Ctx(session, OWNER, clock), ROUTING_RULES, name, RoutingRuleSpec.model_validate(spec)
        )


@dataclass
class Fired:
    alert: Alert
    incident: Incident
    service: str
    paged: bool
    timeline: list[IncidentEvent]


def fire(
    db: Database,
    clock: FakeClock,
    service_id: int,
    *,
    key: str,
    summary: str = "something broke",
    severity: str = "critical",
    labels: dict[str, str] | None = None,
) -> Fired:
    """Send one trigger event through intake and read back what it wrote."""
    event = AlertEvent(
        action=TRIGGER,
        dedup_key=key,
        summary=summary,
        severity=severity,
        labels=labels or {},
        raw={"summary": summary},
    )
    with db.engine.begin() as conn:
        outcome = ingest(conn, [(Target(service_id, None, "test"), event)], clock.now())[0]
    assert outcome.result == "created", outcome
    with db.read() as s:
        alert = s.scalar(select(Alert).where(Alert.dedup_key == key).order_by(Alert.id.desc()))
        assert alert is not None and alert.incident_id == outcome.incident_id
        incident = s.get(Incident, alert.incident_id)
        assert incident is not None
        service = s.scalar(select(Service.name).where(Service.id == incident.service_id))
        paged = (
            s.scalar(
                select(Job.id).where(
                    Job.kind == INCIDENT_TRIGGERED_JOB,
                    Job.idempotency_key == f"{INCIDENT_TRIGGERED_JOB}:{incident.id}",
                )
            )
            is not None
        )
        timeline = list(
            s.scalars(
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == incident.id)
                .order_by(IncidentEvent.id)
            )
        )
    return Fired(alert, incident, service or "", paged, timeline)


def problem(resp: Any, status: int) -> dict[str, Any]:
    """The problem+json body of an error answer, after checking status and type."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    return resp.json()  # type: ignore[no-any-return]


def pointers(body: dict[str, Any]) -> set[str]:
    """The fields an error names: JSON pointers into the body, or parameter names."""
    return {e.get("pointer", e.get("parameter")) for e in body.get("errors", [])}


@pytest.fixture
def run_cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """`watchbill ARGS` in-process against the test database (output and exit code)."""
    from watchbill.app.cli import app as cli

    monkeypatch.setenv("WATCHBILL_DATABASE_URL", db_url)
    monkeypatch.setenv("WATCHBILL_LOG_LEVEL", "warning")
    get_settings.cache_clear()

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli, list(args))

    yield run
    get_settings.cache_clear()
