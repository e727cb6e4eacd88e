"""The durable jobs an incident's status changes enqueue, in the transaction that made
the change: escalation listens to them (see watchbill.escalation.engine), so paging
starts, stops and restarts exactly once per change, whoever made it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from watchbill.core.lifecycle import Status
from watchbill.jobs.queue import enqueue

INCIDENT_TRIGGERED_JOB = "incident.triggered"
INCIDENT_ACKNOWLEDGED_JOB = "incident.acknowledged"
INCIDENT_RESOLVED_JOB = "incident.resolved"
STATUS_JOBS = {
    Status.TRIGGERED.value: INCIDENT_TRIGGERED_JOB,
    Status.ACKNOWLEDGED.value: INCIDENT_ACKNOWLEDGED_JOB,
    Status.RESOLVED.value: INCIDENT_RESOLVED_JOB,
}


def announce(session: Session | Connection, incident_id: int, status: str, now: datetime) -> None:
    """Queue the job for an incident that just became `status`."""
    enqueue(session, kind=STATUS_JOBS[status], payload={"incidentId": incident_id}, now=now)
