"""The escalation engine: durable jobs that page an incident's policy level by level.

Every step is a job (see watchbill.jobs), so a restart, a crash or a second worker never
loses a step, and its idempotency key (incident, epoch, cycle, level) keeps it from
running twice. A step pages only an incident that is still triggered and still in the
epoch that queued it: an acknowledgement, a resolution or a re-trigger that committed
first makes it a no-op. Pages go out through watchbill.notify, whose deliveries check the
incident again just before sending.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchbill.alerts.ingest import SYSTEM_ACTOR
from watchbill.core.escalation import (
    FIRST,
    USER,
    Level,
    Policy,
    Step,
    Target,
    delay_after,
    from_snapshot,
    next_step,
    retrigger_at,
    to_snapshot,
    whom,
)
from watchbill.core.lifecycle import Action, Status, transition
from watchbill.errors import WatchbillError
from watchbill.escalation.models import EscalationPolicy
from watchbill.incidents.jobs import (
    INCIDENT_ACKNOWLEDGED_JOB,
    INCIDENT_RESOLVED_JOB,
    INCIDENT_TRIGGERED_JOB,
)
from watchbill.incidents.models import Incident, IncidentEvent
from watchbill.jobs.handlers import JobRun, registry
from watchbill.jobs.queue import enqueue
from watchbill.notify.service import cancel_pending, page_user
from watchbill.schedules.service import on_call_users

STEP_JOB = "escalation.step"
RETRIGGER_JOB = "escalation.retrigger"


def policy_from_row(row: EscalationPolicy) -> Policy:
    return Policy(
        levels=tuple(
            Level(
                targets=tuple(Target(t["type"], t["name"]) for t in level["targets"]),
                delay=timedelta(minutes=level["delayMinutes"]),
                round_robin=bool(level.get("roundRobin", False)),
            )
            for level in row.levels
        ),
        repeat=row.repeat,
        ack_timeout=timedelta(minutes=row.ack_timeout_minutes) if row.ack_timeout_minutes else None,
    )


def _locked(session: Session, incident_id: int) -> Incident | None:
    return session.scalar(select(Incident).where(Incident.id == incident_id).with_for_update())


def _event(
    session: Session, inc: Incident, now: datetime, kind: str, message: str, data: dict[str, Any]
) -> None:
    session.add(
        IncidentEvent(
            incident_id=inc.id,
            at=now,
            kind=kind,
            actor=SYSTEM_ACTOR,
            message=message[:4000],
            data=data,
        )
    )


def start(session: Session, inc: Incident, now: datetime) -> None:
    """Snapshot the incident's policy and page its first level, in this transaction."""
    row = None
    if inc.escalation_policy:
        row = session.scalar(
            select(EscalationPolicy).where(EscalationPolicy.name == inc.escalation_policy)
        )
    if row is None:
        message = (
            f"escalation policy {inc.escalation_policy!r} is not defined; nobody was paged"
            if inc.escalation_policy
            else "the service has no escalation policy; nobody was paged"
        )
        _event(session, inc, now, "escalation.skipped", message, {})
        return
    epoch = int((inc.escalation or {}).get("epoch", 0)) + 1
    inc.escalation = {"epoch": epoch, "policy": to_snapshot(policy_from_row(row), row.name)}
    _climb(session, inc, epoch, FIRST, now)


def _climb(session: Session, inc: Incident, epoch: int, step: Step, now: datetime) -> None:
    """Page `step`'s level, then queue the next step after its delay. A level with
    nobody to page (a schedule with a gap) hands over to the next level at once."""
    assert inc.escalation is not None
    policy = from_snapshot(inc.escalation["policy"])
    current: Step | None = step
    while current is not None:
        paged = _page_level(session, inc, policy, current, now)
        following = next_step(policy, current)
        if following is None:
            _event(
                session,
                inc,
                now,
                "escalation.finished",
                "every level of the policy has been paged",
                {"cycle": current.cycle, "level": current.level + 1},
            )
            return
        if paged:
            enqueue(
                session,
                kind=STEP_JOB,
                payload={
                    "incidentId": inc.id,
                    "epoch": epoch,
                    "cycle": following.cycle,
                    "level": following.level,
                },
                now=now,
                run_at=now + delay_after(policy, current),
                idempotency_key=(
                    f"{STEP_JOB}:{inc.id}:{epoch}:{following.cycle}:{following.level}"
                ),
            )
            return
        current = following


def _page_level(session: Session, inc: Incident, policy: Policy, step: Step, now: datetime) -> bool:
    level = policy.levels[step.level]
    resolved: list[str] = []
    gaps: list[str] = []
    for target in level.targets:
        if target.kind == USER:
            resolved.append(target.name)
            continue
        try:
            on_call = on_call_users(session, target.name, now)
        except WatchbillError:
            on_call = []
        if not on_call:
            gaps.append(target.name)
        resolved.extend(on_call)
    people = whom(level, resolved, turn=inc.id + step.cycle)
    number = step.level + 1
    data = {"cycle": step.cycle, "level": number, "users": people, "noOneOnCall": gaps}
    if not people:
        _event(
            session,
            inc,
            now,
            "escalation.level",
            f"level {number}: nobody to page"
            + (f" (nobody on call in {', '.join(gaps)})" if gaps else ""),
            data,
        )
        return False
    _event(
        session, inc, now, "escalation.level", f"level {number}: paging {', '.join(people)}", data
    )
    reason = f"escalation level {number}" + (f", repeat {step.cycle}" if step.cycle else "")
    for person in people:
        try:
            page_user(session, inc.id, person, inc.urgency, now, reason)
        except WatchbillError as exc:
            _event(
                session,
                inc,
                now,
                "notification.skipped",
                f"{person} was not paged: {exc}",
                {"user": person},
            )
    return True


@registry.register(INCIDENT_TRIGGERED_JOB)
def on_triggered(run: JobRun) -> None:
    inc = _locked(run.session, int(run.payload["incidentId"]))
    if inc is None or inc.status != Status.TRIGGERED.value or inc.suppressed:
        return
    start(run.session, inc, run.now())


@registry.register(STEP_JOB)
def on_step(run: JobRun) -> None:
    inc = _locked(run.session, int(run.payload["incidentId"]))
    epoch = int(run.payload["epoch"])
    if (
        inc is None
        or inc.status != Status.TRIGGERED.value
        or inc.escalation is None
        or inc.escalation.get("epoch") != epoch
    ):
        return
    step = Step(int(run.payload["cycle"]), int(run.payload["level"]))
    _climb(run.session, inc, epoch, step, run.now())


@registry.register(INCIDENT_ACKNOWLEDGED_JOB)
def on_acknowledged(run: JobRun) -> None:
    """Stop what is still queued for the incident; with an acknowledgement timeout, come
    back then to trigger it again if it is still only acknowledged."""
    incident_id = int(run.payload["incidentId"])
    cancel_pending(run.session, incident_id, run.now())
    inc = run.session.get(Incident, incident_id)
    if inc is None or inc.status != Status.ACKNOWLEDGED.value or inc.escalation is None:
        return
    acknowledged_at = inc.acknowledged_at
    due = retrigger_at(from_snapshot(inc.escalation["policy"]), acknowledged_at or run.now())
    if due is None or acknowledged_at is None:
        return
    stamp = acknowledged_at.isoformat()
    enqueue(
        run.session,
        kind=RETRIGGER_JOB,
        payload={"incidentId": incident_id, "acknowledgedAt": stamp},
        now=run.now(),
        run_at=due,
        idempotency_key=f"{RETRIGGER_JOB}:{incident_id}:{stamp}",
    )


@registry.register(INCIDENT_RESOLVED_JOB)
def on_resolved(run: JobRun) -> None:
    cancel_pending(run.session, int(run.payload["incidentId"]), run.now())


@registry.register(RETRIGGER_JOB)
def on_retrigger(run: JobRun) -> None:
    """The acknowledgement timed out: the incident triggers again and the climb restarts
    from the first level, on the same policy snapshot."""
    inc = _locked(run.session, int(run.payload["incidentId"]))
    if (
        inc is None
        or inc.status != Status.ACKNOWLEDGED.value
        or inc.acknowledged_at is None
        or inc.acknowledged_at.isoformat() != run.payload["acknowledgedAt"]
        or inc.escalation is None
    ):
        return
    now = run.now()
    inc.status = transition(Status.ACKNOWLEDGED, Action.TRIGGER).value
    inc.acknowledged_at = None
    inc.updated_at = now
    _event(
        run.session,
        inc,
        now,
        "status.retriggered",
        "acknowledged but not resolved within the policy's acknowledgement timeout: "
        "triggered again",
        {"from": Status.ACKNOWLEDGED.value, "to": Status.TRIGGERED.value},
    )
    epoch = int(inc.escalation.get("epoch", 0)) + 1
    inc.escalation = {**inc.escalation, "epoch": epoch}
    _climb(run.session, inc, epoch, FIRST, now)
