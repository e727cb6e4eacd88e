"""The durable jobs an incident's status changes enqueue, in the transaction that made
the change: escalation listens to them (see watchbill.escalation.engine), so paging
starts, stops and restarts exactly once per change, whoever made it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from watchbill.core.lifecycle import Status
from watchbill.jobs.queue import enqueue_many

INCIDENT_TRIGGERED_JOB = "incident.triggered"
INCIDENT_ACKNOWLEDGED_JOB = "incident.acknowledged"
INCIDENT_RESOLVED_JOB = "incident.resolved"
STATUS_JOBS = {
    Status.TRIGGERED.value: INCIDENT_TRIGGERED_JOB,
    Status.ACKNOWLEDGED.value: INCIDENT_ACKNOWLEDGED_JOB,
    Status.RESOLVED.value: INCIDENT_RESOLVED_JOB,
}


def announce(
    session: Session | Connection, incident_ids: Iterable[int], status: str, now: datetime
) -> None:
    """Queue the jobs for incidents that just became `status` (one statement for all: an
    alert storm resolves many at once)."""
    kind = STATUS_JOBS[status]
    jobs = [{"kind": kind, "payload": {"incidentId": i}} for i in incident_ids]
    enqueue_many(session, jobs, now)
