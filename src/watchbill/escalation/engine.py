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
from typing import Any, Protocol

import orjson
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

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
from watchbill.incidents.models import Incident
from watchbill.jobs.handlers import JobRun, registry
from watchbill.jobs.queue import enqueue, enqueue_many
from watchbill.notify.service import (
    PageRequest,
    cancel_pending,
    event_row,
    insert_events,
    page_users,
)
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


class Escalating(Protocol):
    """What paging a level reads of an incident: an Incident, or a row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def urgency(self) -> str: ...
    @property
    def escalation(self) -> dict[str, Any] | None: ...


def _locked(session: Session, ids: list[int]) -> list[Incident]:
    """The incidents, locked in id order (two workers never deadlock on them)."""
    return list(session.scalars(_lock(select(Incident), ids)))


def _lock(query: Select[Any], ids: list[int]) -> Select[Any]:
    return query.where(Incident.id.in_(sorted(ids))).order_by(Incident.id).with_for_update()


class _Escalation:
    """The escalation work of one transaction, written together at the end: timeline
    rows, pages and next steps for any number of incidents, so that a storm of steps
    costs a few statements per batch rather than a dozen per incident."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session, self.now = session, now
        self._entries: list[dict[str, Any] | int] = []  # a row, or the index of a page
        self._pages: list[PageRequest] = []
        self._steps: list[dict[str, Any]] = []
        self._on_call: dict[str, list[str]] = {}
        self._policies: dict[str, EscalationPolicy | None] = {}
        self._snapshots: dict[bytes, Policy] = {}

    def event(self, inc: Escalating, kind: str, message: str, data: dict[str, Any]) -> None:
        self._entries.append(event_row(inc.id, self.now, kind, message, data))

    def page(self, inc: Escalating, person: str, reason: str) -> None:
        self._entries.append(len(self._pages))
        self._pages.append(PageRequest(inc.id, person, inc.urgency, reason))

    def on_call(self, schedule: str) -> list[str]:
        if schedule not in self._on_call:
            try:
                self._on_call[schedule] = on_call_users(self.session, schedule, self.now)
            except WatchbillError:
                self._on_call[schedule] = []
        return self._on_call[schedule]

    def snapshot(self, doc: dict[str, Any]) -> Policy:
        """The policy an incident escalates on; a storm's incidents mostly share one."""
        key = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
        if key not in self._snapshots:
            self._snapshots[key] = from_snapshot(doc)
        return self._snapshots[key]

    def policy(self, name: str) -> EscalationPolicy | None:
        if name not in self._policies:
            self._policies[name] = self.session.scalar(
                select(EscalationPolicy).where(EscalationPolicy.name == name)
            )
        return self._policies[name]

    def next_step(self, inc: Escalating, epoch: int, step: Step, run_at: datetime) -> None:
        self._steps.append(
            {
                "kind": STEP_JOB,
                "payload": {
                    "incidentId": inc.id,
                    "epoch": epoch,
                    "cycle": step.cycle,
                    "level": step.level,
                },
                "run_at": run_at,
                "idempotency_key": f"{STEP_JOB}:{inc.id}:{epoch}:{step.cycle}:{step.level}",
            }
        )

    def write(self) -> None:
        paged = page_users(self.session, self._pages, self.now)
        rows: list[dict[str, Any]] = []
        for entry in self._entries:
            rows.extend(paged[entry].events if isinstance(entry, int) else [entry])
        insert_events(self.session, rows)
        enqueue_many(self.session, self._steps, self.now)


def start(work: _Escalation, inc: Incident) -> None:
    """Snapshot the incident's policy and page its first level."""
    row = work.policy(inc.escalation_policy) if inc.escalation_policy else None
    if row is None:
        message = (
            f"escalation policy {inc.escalation_policy!r} is not defined; nobody was paged"
            if inc.escalation_policy
            else "the service has no escalation policy; nobody was paged"
        )
        work.event(inc, "escalation.skipped", message, {})
        return
    epoch = int((inc.escalation or {}).get("epoch", 0)) + 1
    inc.escalation = {"epoch": epoch, "policy": to_snapshot(policy_from_row(row), row.name)}
    _climb(work, inc, epoch, FIRST)


def _climb(work: _Escalation, inc: Escalating, epoch: int, step: Step) -> None:
    """Page `step`'s level, then queue the next step after its delay. A level with
    nobody to page (a schedule with a gap) hands over to the next level at once."""
    assert inc.escalation is not None
    policy = work.snapshot(inc.escalation["policy"])
    current: Step | None = step
    while current is not None:
        paged = _page_level(work, inc, policy, current)
        following = next_step(policy, current)
        if following is None:
            work.event(
                inc,
                "escalation.finished",
                "every level of the policy has been paged",
                {"cycle": current.cycle, "level": current.level + 1},
            )
            return
        if paged:
            work.next_step(inc, epoch, following, work.now + delay_after(policy, current))
            return
        current = following


def _page_level(work: _Escalation, inc: Escalating, policy: Policy, step: Step) -> bool:
    level = policy.levels[step.level]
    resolved: list[str] = []
    gaps: list[str] = []
    for target in level.targets:
        if target.kind == USER:
            resolved.append(target.name)
            continue
        on_call = work.on_call(target.name)
        if not on_call:
            gaps.append(target.name)
        resolved.extend(on_call)
    people = whom(level, resolved, turn=inc.id + step.cycle)
    number = step.level + 1
    data = {"cycle": step.cycle, "level": number, "users": people, "noOneOnCall": gaps}
    if not people:
        nobody = f" (nobody on call in {', '.join(gaps)})" if gaps else ""
        work.event(inc, "escalation.level", f"level {number}: nobody to page{nobody}", data)
        return False
    work.event(inc, "escalation.level", f"level {number}: paging {', '.join(people)}", data)
    reason = f"escalation level {number}" + (f", repeat {step.cycle}" if step.cycle else "")
    for person in people:
        work.page(inc, person, reason)
    return True


@registry.register_batch(INCIDENT_TRIGGERED_JOB)
def on_triggered(runs: list[JobRun]) -> None:
    work = _Escalation(runs[0].session, runs[0].now())
    for inc in _locked(work.session, [int(run.payload["incidentId"]) for run in runs]):
        if inc.status == Status.TRIGGERED.value and not inc.suppressed:
            start(work, inc)
    work.write()


@registry.register_batch(STEP_JOB)
def on_step(runs: list[JobRun]) -> None:
    work = _Escalation(runs[0].session, runs[0].now())
    # An incident may have several steps in one batch (after an outage, a stale step of
    # an earlier trigger beside the current one): each is checked on its own.
    wanted: dict[int, list[dict[str, Any]]] = {}
    for run in runs:
        wanted.setdefault(int(run.payload["incidentId"]), []).append(run.payload)
    # Steps only read the incident: its columns, not the entity, which a storm of ten
    # thousand would spend a tenth of its time building.
    columns = select(Incident.id, Incident.status, Incident.urgency, Incident.escalation)
    for inc in work.session.execute(_lock(columns, list(wanted))):
        for payload in wanted[inc.id]:
            epoch = int(payload["epoch"])
            if (
                inc.status == Status.TRIGGERED.value
                and inc.escalation is not None
                and inc.escalation.get("epoch") == epoch
            ):
                _climb(work, inc, epoch, Step(int(payload["cycle"]), int(payload["level"])))
    work.write()


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
    work = _Escalation(run.session, run.now())
    found = _locked(run.session, [int(run.payload["incidentId"])])
    inc = found[0] if found else None
    if (
        inc is None
        or inc.status != Status.ACKNOWLEDGED.value
        or inc.acknowledged_at is None
        or inc.acknowledged_at.isoformat() != run.payload["acknowledgedAt"]
        or inc.escalation is None
    ):
        return
    inc.status = transition(Status.ACKNOWLEDGED, Action.TRIGGER).value
    inc.acknowledged_at = None
    inc.updated_at = work.now
    work.event(
        inc,
        "status.retriggered",
        "acknowledged but not resolved within the policy's acknowledgement timeout: "
        "triggered again",
        {"from": Status.ACKNOWLEDGED.value, "to": Status.TRIGGERED.value},
    )
    epoch = int(inc.escalation.get("epoch", 0)) + 1
    inc.escalation = {**inc.escalation, "epoch": epoch}
    _climb(work, inc, epoch, FIRST)
    work.write()
