"""From normalised events to alerts and incidents, in one transaction per batch.

This is the hot path of intake, so it reads what it needs in a few set-based queries
(services, rules, silences, maintenance windows, the open alerts the batch touches),
decides everything in memory in event order, and writes with executemany. The partial
unique index on open alerts makes a concurrent duplicate fail the transaction, which the
caller retries: deduplication never depends on process-local state.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from watchbill.alerts.models import FIRING, RESOLVED, Alert, AlertPayload, is_open
from watchbill.alerts.rules import ActiveRules, ConfigCache, Decision, decide
from watchbill.catalog.models import Service
from watchbill.core.grouping import accepts, group_key
from watchbill.core.lifecycle import Status
from watchbill.incidents.jobs import INCIDENT_TRIGGERED_JOB, announce
from watchbill.incidents.models import Incident, IncidentEvent
from watchbill.incidents.severity import default_urgency, severity_from_alert
from watchbill.intake.events import ACKNOWLEDGE, RESOLVE, TRIGGER, AlertEvent
from watchbill.jobs.queue import enqueue

MAX_SUPPRESSED = 500
SYSTEM_ACTOR = "system:watchbill"

alerts_t = Alert.__table__
payloads_t = AlertPayload.__table__
PAYLOAD_FIELDS = ("labels", "details", "links", "raw")
incidents_t = Incident.__table__
timeline_t = IncidentEvent.__table__

# Statements built once: constructing SQLAlchemy expressions per batch costs more than
# running them.
_SERVICES = select(
    Service.id,
    Service.name,
    Service.auto_resolve,
    Service.group_by,
    Service.group_window_seconds,
    Service.escalation_policy,
).where(Service.id.in_(bindparam("ids", expanding=True)))
_OPEN_ALERTS = (
    select(
        alerts_t.c.id,
        alerts_t.c.service_id,
        alerts_t.c.dedup_key,
        alerts_t.c.incident_id,
        alerts_t.c.summary,
        alerts_t.c.severity,
    )
    .where(is_open())
    .where(alerts_t.c.dedup_key.in_(bindparam("keys", expanding=True)))
    .where(alerts_t.c.service_id.in_(bindparam("sids", expanding=True)))
)
_INCIDENTS_BY_ID = select(
    incidents_t.c.id,
    incidents_t.c.service_id,
    incidents_t.c.group_key,
    incidents_t.c.status,
    incidents_t.c.created_at,
    incidents_t.c.auto_resolve,
).where(incidents_t.c.id.in_(bindparam("ids", expanding=True)))
_OPEN_INCIDENT = (
    select(
        incidents_t.c.id,
        incidents_t.c.service_id,
        incidents_t.c.group_key,
        incidents_t.c.status,
        incidents_t.c.created_at,
        incidents_t.c.auto_resolve,
    )
    .where(incidents_t.c.service_id == bindparam("sid"))
    .where(incidents_t.c.group_key == bindparam("gkey"))
    .where(incidents_t.c.status != Status.RESOLVED.value)
    .where(incidents_t.c.merged_into_id.is_(None))
    .order_by(incidents_t.c.id.desc())
    .limit(1)
)
_INSERT_INCIDENTS = insert(incidents_t).returning(incidents_t.c.id, sort_by_parameter_order=True)
_INSERT_ALERTS = insert(alerts_t).returning(alerts_t.c.id, sort_by_parameter_order=True)
_INSERT_PAYLOADS = insert(payloads_t)
_INSERT_TIMELINE = insert(timeline_t)
_BUMP_INCIDENTS = (
    update(incidents_t)
    .where(incidents_t.c.id == bindparam("b_id"))
    .values(alert_count=incidents_t.c.alert_count + bindparam("n"), updated_at=bindparam("now"))
)
_ACK_INCIDENTS = (
    update(incidents_t)
    .where(incidents_t.c.id == bindparam("b_id"))
    .where(incidents_t.c.status == Status.TRIGGERED.value)
    .values(
        status=Status.ACKNOWLEDGED.value,
        acknowledged_at=bindparam("now"),
        updated_at=bindparam("now"),
        alert_count=incidents_t.c.alert_count + bindparam("n"),
    )
)
_FIRING_OF = (
    select(alerts_t.c.incident_id)
    .where(alerts_t.c.incident_id.in_(bindparam("ids", expanding=True)))
    .where(alerts_t.c.status == FIRING)
    .group_by(alerts_t.c.incident_id)
)
_RESOLVE_INCIDENTS = (
    update(incidents_t)
    .where(incidents_t.c.id.in_(bindparam("ids", expanding=True)))
    .where(incidents_t.c.status != Status.RESOLVED.value)
    .values(status=Status.RESOLVED.value, resolved_at=bindparam("now"), updated_at=bindparam("now"))
)
_BUMP_ALERTS = (
    update(alerts_t)
    .where(alerts_t.c.id.in_(bindparam("ids", expanding=True)))
    .values(count=alerts_t.c.count + bindparam("inc"), last_seen=bindparam("now"))
)
_REPEAT_SHAPE = {"inc", "last_seen"}
_update_statements: dict[tuple[str, ...], Any] = {}
_UPDATE_PAYLOADS = (
    update(payloads_t)
    .where(payloads_t.c.alert_id == bindparam("b_id"))
    .values({name: bindparam(name) for name in PAYLOAD_FIELDS if name != "links"})
)


def _alert_update(shape: tuple[str, ...]) -> Any:
    stmt = _update_statements.get(shape)
    if stmt is None:
        values: dict[str, Any] = {name: bindparam(name) for name in shape if name != "inc"}
        values["count"] = alerts_t.c.count + bindparam("inc")
        stmt = update(alerts_t).where(alerts_t.c.id == bindparam("b_id")).values(values)
        _update_statements[shape] = stmt
    return stmt


@dataclass(frozen=True, slots=True)
class Target:
    """Where an event came in: the service of the integration, and who to name as actor."""

    service_id: int
    integration_id: int | None
    actor: str


@dataclass(frozen=True, slots=True)
class Outcome:
    dedup_key: str
    result: str  # created | deduplicated | resolved | acknowledged | ignored
    incident_id: int | None = None
    opened: bool = False  # the event opened its incident (and queued its escalation)


@dataclass(slots=True)
class _ServiceConfig:
    id: int
    name: str
    auto_resolve: bool
    group_by: list[str]
    window: timedelta | None
    escalation_policy: str | None


@dataclass(slots=True)
class _OpenAlert:
    id: int | None
    service_id: int
    dedup_key: str
    incident: _IncidentRef | None
    row: dict[str, Any] | None = None  # the insert row while the alert is new in this batch
    shown: tuple[str, str] = ("", "")  # summary and severity as stored


@dataclass(slots=True)
class _IncidentRef:
    id: int | None
    service_id: int
    group_key: str
    status: str
    created_at: datetime
    auto_resolve: bool
    row: dict[str, Any] | None = None  # the insert row while the incident is new
    new_alerts: int = 0
    status_change: str | None = None
    resolved_alerts: int = 0
    timeline: list[dict[str, Any]] = field(default_factory=list)


class _Batch:
    """The state of one ingest call: what is open, what changes, what to write."""

    def __init__(self, conn: Connection, now: datetime, cache: ConfigCache) -> None:
        self.conn = conn
        self.now = now
        self.rules: ActiveRules = cache.active_rules(conn, now)
        self.services: dict[int, _ServiceConfig] = cache.services
        self.service_info: dict[int, tuple[str, str | None]] = cache.service_info
        self.open: dict[tuple[int, str], _OpenAlert] = {}
        self.incidents: dict[tuple[int, str], _IncidentRef | None] = {}
        self.incidents_by_id: dict[int, _IncidentRef] = {}
        self.new_incidents: list[_IncidentRef] = []
        self.new_alerts: list[_OpenAlert] = []
        self.updates: dict[int, dict[str, Any]] = {}


def ingest(
    conn: Connection,
    items: list[tuple[Target, AlertEvent]],
    now: datetime,
    cache: ConfigCache | None = None,
) -> list[Outcome]:
    """Apply the events in order; the caller commits (or retries on a unique violation).

    `cache` carries the configuration between batches; its caller refreshes it in this
    transaction. Without one, everything is read afresh.
    """
    if not items:
        return []
    if cache is None:
        cache = ConfigCache()
    batch = _Batch(conn, now, cache)
    _load_services(batch, {t.service_id for t, _ in items} | set(batch.rules.service_ids.values()))
    routed = [(_route(batch, target, event), target, event) for target, event in items]
    _load_open_alerts(batch, {(r.service_id, e.dedup_key) for r, _, e in routed})
    outcomes = [_apply(batch, routing, target, event) for routing, target, event in routed]
    _flush(batch)
    return [_with_incident_id(o) for o in outcomes]


def _route(batch: _Batch, target: Target, event: AlertEvent) -> Decision:
    decision = decide(
        batch.rules,
        batch.service_info,
        target.service_id,
        event.severity,
        event.labels,
        event.summary,
    )
    if len(decision.suppressed) > MAX_SUPPRESSED:
        # alerts/incidents.suppressed hold 500 characters; a maintenance window's
        # description (or a silence's comment) may hold 2000.
        decision = replace(decision, suppressed=decision.suppressed[:MAX_SUPPRESSED])
    return decision


def _load_services(batch: _Batch, ids: set[int]) -> None:
    missing = [i for i in ids if i not in batch.services]
    if not missing:
        return
    rows = batch.conn.execute(_SERVICES, {"ids": missing})
    for r in rows:
        window = timedelta(seconds=r.group_window_seconds) if r.group_window_seconds else None
        batch.services[r.id] = _ServiceConfig(
            r.id, r.name, r.auto_resolve, list(r.group_by or []), window, r.escalation_policy
        )
        batch.service_info[r.id] = (r.name, r.escalation_policy)


def _load_open_alerts(batch: _Batch, keys: set[tuple[int, str]]) -> None:
    service_ids = {s for s, _ in keys}
    dedup_keys = {k for _, k in keys}
    rows = batch.conn.execute(
        _OPEN_ALERTS, {"keys": list(dedup_keys), "sids": list(service_ids)}
    ).all()
    incident_ids = {r.incident_id for r in rows if r.incident_id is not None}
    _load_incidents_by_id(batch, incident_ids)
    for r in rows:
        if (r.service_id, r.dedup_key) in keys:
            batch.open[(r.service_id, r.dedup_key)] = _OpenAlert(
                r.id,
                r.service_id,
                r.dedup_key,
                batch.incidents_by_id.get(r.incident_id),
                shown=(r.summary, r.severity),
            )


def _load_incidents_by_id(batch: _Batch, ids: set[int]) -> None:
    if not ids:
        return
    rows = batch.conn.execute(_INCIDENTS_BY_ID, {"ids": list(ids)})
    for r in rows:
        batch.incidents_by_id[r.id] = _IncidentRef(
            r.id, r.service_id, r.group_key, r.status, r.created_at, r.auto_resolve
        )


def _apply(batch: _Batch, routing: Decision, target: Target, event: AlertEvent) -> Outcome:
    key = (routing.service_id, event.dedup_key)
    current = batch.open.get(key)
    if event.action == TRIGGER:
        if current is not None:
            _repeat(batch, current, event)
            return Outcome(event.dedup_key, "deduplicated", _incident_marker(current))
        alert = _open_alert(batch, routing, target, event)
        opened = alert.incident is not None and alert.incident.id is None
        return Outcome(event.dedup_key, "created", _incident_marker(alert), opened)
    if current is None:
        return Outcome(event.dedup_key, "ignored")
    if event.action == RESOLVE:
        _resolve_alert(batch, current, target)
        del batch.open[key]
        return Outcome(event.dedup_key, "resolved", _incident_marker(current))
    if event.action == ACKNOWLEDGE and current.incident is not None:
        _acknowledge(current.incident, target, batch.now)
    return Outcome(event.dedup_key, "acknowledged", _incident_marker(current))


def _incident_marker(alert: _OpenAlert) -> Any:
    # The incident may get its id only at flush; the outcome holds the reference until then.
    return alert.incident


def _with_incident_id(outcome: Outcome) -> Outcome:
    ref = outcome.incident_id
    if isinstance(ref, _IncidentRef):
        return Outcome(outcome.dedup_key, outcome.result, ref.id, outcome.opened)
    return outcome


def _repeat(batch: _Batch, alert: _OpenAlert, event: AlertEvent) -> None:
    """A repeat counts and refreshes last-seen; the payload is rewritten only when what
    is shown (summary, severity) changed, since senders repeat identical alerts often."""
    fields: dict[str, Any] = {"last_seen": batch.now}
    if (event.summary, event.severity) != alert.shown:
        fields.update(
            summary=event.summary,
            severity=event.severity,
            labels=event.labels,
            details=event.details,
            raw=event.raw,
        )
        alert.shown = (event.summary, event.severity)
    if alert.row is not None:
        alert.row.update(fields)
        alert.row["count"] += 1
        return
    assert alert.id is not None
    pending = batch.updates.setdefault(alert.id, {"inc": 0})
    pending.update(fields)
    pending["inc"] += 1


def _open_alert(batch: _Batch, routing: Decision, target: Target, event: AlertEvent) -> _OpenAlert:
    svc = batch.services[routing.service_id]
    gkey = group_key({**event.labels, "service": svc.name}, svc.group_by, event.dedup_key)
    incident = _find_incident(batch, svc, gkey)
    if incident is None:
        incident = _new_incident(batch, svc, gkey, routing, target, event)
    incident.new_alerts += 1
    row = {
        "service_id": svc.id,
        "integration_id": target.integration_id,
        "dedup_key": event.dedup_key,
        "status": FIRING,
        "severity": event.severity,
        "summary": event.summary,
        "source": event.source,
        "labels": event.labels,
        "details": event.details,
        "links": event.links,
        "raw": event.raw,
        "count": 1,
        "suppressed": routing.suppressed,
        "first_seen": batch.now,
        "last_seen": batch.now,
        "resolved_at": None,
    }
    alert = _OpenAlert(
        None, svc.id, event.dedup_key, incident, row, (event.summary, event.severity)
    )
    batch.open[(svc.id, event.dedup_key)] = alert
    batch.new_alerts.append(alert)
    incident.timeline.append(
        _entry(
            batch.now,
            "alert.triggered",
            target.actor,
            event.summary,
            {
                "dedupKey": event.dedup_key,
                "severity": event.severity,
                "suppressed": routing.suppressed,
            },
        )
    )
    return alert


def _find_incident(batch: _Batch, svc: _ServiceConfig, gkey: str) -> _IncidentRef | None:
    cache_key = (svc.id, gkey)
    if cache_key not in batch.incidents:
        row = batch.conn.execute(_OPEN_INCIDENT, {"sid": svc.id, "gkey": gkey}).first()
        ref = None
        if row is not None:
            ref = batch.incidents_by_id.get(row.id) or _IncidentRef(
                row.id, svc.id, gkey, row.status, row.created_at, row.auto_resolve
            )
            batch.incidents_by_id[row.id] = ref
        batch.incidents[cache_key] = ref
    ref = batch.incidents[cache_key]
    if ref is not None and (
        ref.status == Status.RESOLVED.value or not accepts(ref.created_at, batch.now, svc.window)
    ):
        return None
    return ref


def _new_incident(
    batch: _Batch,
    svc: _ServiceConfig,
    gkey: str,
    routing: Decision,
    target: Target,
    event: AlertEvent,
) -> _IncidentRef:
    severity = routing.severity or severity_from_alert(event.severity)
    row = {
        "service_id": svc.id,
        "title": event.summary or event.dedup_key,
        "status": Status.TRIGGERED.value,
        "severity": severity,
        "priority": routing.priority,
        "urgency": routing.urgency or default_urgency(event.severity),
        "group_key": gkey,
        "escalation_policy": routing.escalation_policy,
        "suppressed": routing.suppressed,
        "auto_resolve": svc.auto_resolve,
        "alert_count": 0,
        "merged_into_id": None,
        "created_at": batch.now,
        "updated_at": batch.now,
        "acknowledged_at": None,
        "resolved_at": None,
    }
    ref = _IncidentRef(
        None, svc.id, gkey, Status.TRIGGERED.value, batch.now, svc.auto_resolve, row=row
    )
    ref.timeline.append(
        _entry(
            batch.now,
            "incident.triggered",
            target.actor,
            f"{severity} incident opened on {svc.name}",
            {"groupKey": gkey, "severity": severity},
        )
    )
    if routing.suppressed:
        ref.timeline.append(
            _entry(
                batch.now,
                "incident.suppressed",
                SYSTEM_ACTOR,
                f"Nobody is paged: {routing.suppressed}",
                {},
            )
        )
    batch.incidents[(svc.id, gkey)] = ref
    batch.new_incidents.append(ref)
    return ref


def _resolve_alert(batch: _Batch, alert: _OpenAlert, target: Target) -> None:
    if alert.row is not None:
        alert.row["status"] = RESOLVED
        alert.row["resolved_at"] = batch.now
        alert.row["last_seen"] = batch.now
    else:
        assert alert.id is not None
        pending = batch.updates.setdefault(alert.id, {"inc": 0})
        pending.update(status=RESOLVED, resolved_at=batch.now, last_seen=batch.now)
    if alert.incident is not None:
        alert.incident.resolved_alerts += 1
        alert.incident.timeline.append(
            _entry(
                batch.now,
                "alert.resolved",
                target.actor,
                f"alert {alert.dedup_key} resolved",
                {"dedupKey": alert.dedup_key},
            )
        )


def _acknowledge(incident: _IncidentRef, target: Target, now: datetime) -> None:
    if incident.status == Status.TRIGGERED.value:
        incident.status = Status.ACKNOWLEDGED.value
        incident.status_change = Status.ACKNOWLEDGED.value
        incident.timeline.append(
            _entry(
                now, "status.acknowledged", target.actor, "acknowledged by an acknowledge event", {}
            )
        )


def _entry(
    at: datetime, kind: str, actor: str, message: str, data: dict[str, Any]
) -> dict[str, Any]:
    return {"at": at, "kind": kind, "actor": actor, "message": message[:4000], "data": data}


def _flush(batch: _Batch) -> None:
    conn, now = batch.conn, batch.now
    if batch.new_incidents:
        ids = (
            conn.execute(_INSERT_INCIDENTS, [ref.row for ref in batch.new_incidents])
            .scalars()
            .all()
        )
        for ref, new_id in zip(batch.new_incidents, ids, strict=True):
            ref.id = new_id
    if batch.new_alerts:
        _insert_alerts(batch)
    _write_alert_updates(batch)
    touched = [*batch.incidents_by_id.values(), *batch.new_incidents]
    _write_incident_changes(batch, touched)
    _auto_resolve(batch, [r for r in touched if r.resolved_alerts and r.auto_resolve])
    for ref in batch.new_incidents:
        if ref.row is not None and not ref.row["suppressed"]:
            enqueue(
                conn,
                kind=INCIDENT_TRIGGERED_JOB,
                payload={"incidentId": ref.id},
                now=now,
                idempotency_key=f"{INCIDENT_TRIGGERED_JOB}:{ref.id}",
            )
            ref.timeline.append(
                _entry(
                    now,
                    "escalation.queued",
                    SYSTEM_ACTOR,
                    "incident triggered: escalation job queued",
                    {},
                )
            )
    timeline = [{**entry, "incident_id": ref.id} for ref in touched for entry in ref.timeline]
    if timeline:
        conn.execute(_INSERT_TIMELINE, timeline)


def _insert_alerts(batch: _Batch) -> None:
    rows, payloads = [], []
    for alert in batch.new_alerts:
        assert alert.row is not None and alert.incident is not None
        row = {**alert.row, "incident_id": alert.incident.id}
        payloads.append({name: row.pop(name) for name in PAYLOAD_FIELDS})
        rows.append(row)
    ids = batch.conn.execute(_INSERT_ALERTS, rows).scalars().all()
    for payload, alert_id in zip(payloads, ids, strict=True):
        payload["alert_id"] = alert_id
    batch.conn.execute(_INSERT_PAYLOADS, payloads)


def _write_alert_updates(batch: _Batch) -> None:
    """Plain repeats (the bulk of a storm) become one UPDATE … WHERE id IN (…) per repeat
    count; anything else is written row by row with executemany."""
    repeats: dict[int, list[int]] = defaultdict(list)
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    payloads = []
    for alert_id, fields in batch.updates.items():
        if fields.keys() == _REPEAT_SHAPE:
            repeats[fields["inc"]].append(alert_id)
            continue
        if "raw" in fields:
            payloads.append(
                {"b_id": alert_id, **{k: fields.pop(k) for k in ("labels", "details", "raw")}}
            )
        by_shape[tuple(sorted(fields))].append({"b_id": alert_id, **fields})
    for inc, ids in repeats.items():
        batch.conn.execute(_BUMP_ALERTS, {"ids": ids, "inc": inc, "now": batch.now})
    for shape, rows in by_shape.items():
        batch.conn.execute(_alert_update(shape), rows)
    if payloads:
        batch.conn.execute(_UPDATE_PAYLOADS, payloads)


def _write_incident_changes(batch: _Batch, refs: list[_IncidentRef]) -> None:
    rows = [
        {"b_id": r.id, "n": r.new_alerts, "now": batch.now}
        for r in refs
        if r.new_alerts and r.status_change is None
    ]
    if rows:
        batch.conn.execute(_BUMP_INCIDENTS, rows)
    acks = [
        {"b_id": r.id, "n": r.new_alerts, "now": batch.now}
        for r in refs
        if r.status_change == Status.ACKNOWLEDGED.value
    ]
    if acks:
        batch.conn.execute(_ACK_INCIDENTS, acks)
        announce(batch.conn, [ack["b_id"] for ack in acks], Status.ACKNOWLEDGED.value, batch.now)


def _auto_resolve(batch: _Batch, refs: list[_IncidentRef]) -> None:
    """Incidents whose alerts are now all resolved resolve too (where the service says so)."""
    ids = [r.id for r in refs if r.status != Status.RESOLVED.value]
    if not ids:
        return
    still_firing = set(batch.conn.execute(_FIRING_OF, {"ids": ids}).scalars())
    done = [r for r in refs if r.id not in still_firing and r.status != Status.RESOLVED.value]
    if not done:
        return
    resolved = [r.id for r in done if r.id is not None]
    batch.conn.execute(_RESOLVE_INCIDENTS, {"ids": resolved, "now": batch.now})
    announce(batch.conn, resolved, Status.RESOLVED.value, batch.now)
    for ref in done:
        ref.status = Status.RESOLVED.value
        ref.timeline.append(
            _entry(
                batch.now,
                "status.resolved",
                SYSTEM_ACTOR,
                "resolved: all of its alerts resolved",
                {"auto": True},
            )
        )
