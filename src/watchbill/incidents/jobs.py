"""The durable job an incident's trigger enqueues; on-call escalation builds on it."""

from __future__ import annotations

from sqlalchemy import insert, select

from watchbill.alerts.ingest import INCIDENT_TRIGGERED_JOB, SYSTEM_ACTOR
from watchbill.incidents.models import Incident, IncidentEvent
from watchbill.jobs.handlers import JobRun, registry


@registry.register(INCIDENT_TRIGGERED_JOB)
def incident_triggered(run: JobRun) -> None:
    """Record on the timeline what escalation did; without a policy, say plainly that
    nobody was paged (escalation policies arrive with the on-call capability)."""
    incident_id = int(run.payload["incidentId"])
    row = run.session.execute(
        select(Incident.escalation_policy, Incident.status).where(Incident.id == incident_id)
    ).first()
    if row is None:
        return
    message = (
        f"escalation policy {row.escalation_policy!r} is not defined; nobody was paged"
        if row.escalation_policy
        else "the service has no escalation policy; nobody was paged"
    )
    run.session.execute(
        insert(IncidentEvent),
        [
            {
                "incident_id": incident_id,
                "at": run.now(),
                "kind": "escalation.skipped",
                "actor": SYSTEM_ACTOR,
                "message": message,
                "data": {},
            }
        ],
    )
