"""Heartbeats (dead man's switch): no ping within the interval raises an alert; the next
ping resolves it. A durable sweep job checks every few seconds and schedules the next."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from watchbill.alerts.ingest import Target, ingest
from watchbill.alerts.models import Alert, is_open
from watchbill.catalog.models import Service
from watchbill.intake.events import RESOLVE, TRIGGER, AlertEvent
from watchbill.integrations.models import HEARTBEAT, Integration
from watchbill.jobs.handlers import JobRun, registry
from watchbill.jobs.queue import enqueue

SWEEP_JOB = "heartbeat.sweep"
SWEEP_SECONDS = 10


def dedup_key(integration_id: int) -> str:
    return f"heartbeat:{integration_id}"


def _actor(service: str) -> str:
    return f"heartbeat:{service}"


def ping_event(integration_id: int, service_id: int, service: str) -> tuple[Target, AlertEvent]:
    """What a ping means: resolve the missed-heartbeat alert if one is open."""
    return (
        Target(service_id, integration_id, _actor(service)),
        AlertEvent(action=RESOLVE, dedup_key=dedup_key(integration_id)),
    )


def overdue(conn: Connection, now: datetime) -> list[tuple[Target, AlertEvent]]:
    """Trigger events for heartbeats whose interval passed without a ping."""
    rows = conn.execute(
        select(
            Integration.id,
            Integration.service_id,
            Integration.name,
            Integration.heartbeat_seconds,
            Integration.last_event_at,
            Integration.created_at,
            Service.name.label("service"),
        )
        .join(Service, Service.id == Integration.service_id)
        .where(Integration.type == HEARTBEAT)
    ).all()
    late = [
        r
        for r in rows
        if r.heartbeat_seconds
        and (r.last_event_at or r.created_at) + timedelta(seconds=r.heartbeat_seconds) < now
    ]
    if not late:
        return []
    already = set(
        conn.execute(
            select(Alert.dedup_key).where(
                is_open(),
                Alert.dedup_key.in_([dedup_key(r.id) for r in late]),
            )
        ).scalars()
    )
    events = []
    for r in late:
        if dedup_key(r.id) in already:
            continue
        last = r.last_event_at.isoformat() if r.last_event_at else "never"
        events.append(
            (
                Target(r.service_id, r.id, _actor(r.service)),
                AlertEvent(
                    action=TRIGGER,
                    dedup_key=dedup_key(r.id),
                    summary=f"Heartbeat {r.name!r} of {r.service} missed: no ping in "
                    f"{r.heartbeat_seconds} s (last ping: {last})",
                    severity="critical",
                    source="watchbill-heartbeat",
                    labels={
                        "alertname": "HeartbeatMissed",
                        "heartbeat": r.name,
                        "severity": "critical",
                    },
                    details={"intervalSeconds": r.heartbeat_seconds, "lastPing": last},
                ),
            )
        )
    return events


@registry.register(SWEEP_JOB)
def sweep(run: JobRun) -> None:
    """Raise alerts for missed heartbeats, then schedule the next sweep (idempotently)."""
    conn = run.session.connection()
    now = run.now()
    ingest(conn, overdue(conn, now), now)
    schedule_sweep(conn, now, now + timedelta(seconds=SWEEP_SECONDS))


def start_sweeps(conn: Connection, now: datetime) -> None:
    """Keep the chain of sweeps alive (run whenever a worker starts)."""
    schedule_sweep(conn, now, now)


def schedule_sweep(conn: Connection, now: datetime, at: datetime) -> None:
    """One sweep per time slot, however many workers or restarts ask for it."""
    slot = int(at.timestamp()) // SWEEP_SECONDS
    enqueue(
        conn, kind=SWEEP_JOB, payload={}, now=now, run_at=at, idempotency_key=f"{SWEEP_JOB}:{slot}"
    )
