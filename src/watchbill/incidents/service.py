"""Acting on incidents: status changes, notes, assignees, edits, merge and split; listing.

Every change locks the incident rows it touches, appends timeline entries (actor and
time) and an audit record in the caller's transaction, so a change, its timeline and
its audit are committed together or not at all. Status changes go through the pure
transition table in `core.lifecycle`; a repeat that changes nothing is a no-op (no
timeline entry, no audit), so retried requests are harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, insert, select, update

from watchbill.access import Role
from watchbill.alerts.models import FIRING, RESOLVED, Alert
from watchbill.audit.service import record
from watchbill.catalog.models import Service
from watchbill.context import Ctx
from watchbill.core.lifecycle import Action, Status, TransitionError, transition
from watchbill.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from watchbill.incidents.jobs import announce
from watchbill.incidents.models import Incident, IncidentEvent, incident_assignees
from watchbill.incidents.schemas import IncidentFilters
from watchbill.resources.service import decode_cursor, encode_cursor
from watchbill.users.models import User

OBJECT_TYPE = "Incident"
ACT_ROLE = Role.RESPONDER
MAX_MESSAGE = 4000


@dataclass(frozen=True, slots=True)
class Change:
    """The incident after an action, and whether the action changed anything."""

    incident: Incident
    changed: bool


# ---------------------------------------------------------------------------- helpers


def _require_responder(ctx: Ctx) -> None:
    if not ctx.principal.can(ACT_ROLE):
        raise Forbidden(
            f"acting on incidents needs the {ACT_ROLE} role; you have {ctx.principal.role}"
        )


def _not_found(incident_id: int) -> NotFound:
    return NotFound(f"incident {incident_id} does not exist")


def _locked(ctx: Ctx, incident_id: int) -> Incident:
    """The incident, locked against concurrent changes until the transaction ends."""
    inc = ctx.session.scalar(select(Incident).where(Incident.id == incident_id).with_for_update())
    if inc is None:
        raise _not_found(incident_id)
    return inc


def _locked_many(ctx: Ctx, ids: Iterable[int]) -> dict[int, Incident]:
    # Locked in id order so that two merges over the same incidents cannot deadlock.
    wanted = sorted(set(ids))
    rows = ctx.session.scalars(
        select(Incident).where(Incident.id.in_(wanted)).order_by(Incident.id).with_for_update()
    ).all()
    found = {inc.id: inc for inc in rows}
    for incident_id in wanted:
        if incident_id not in found:
            raise _not_found(incident_id)
    return found


def _event(
    ctx: Ctx, inc: Incident, kind: str, message: str, data: dict[str, Any] | None = None
) -> IncidentEvent:
    event = IncidentEvent(
        incident_id=inc.id,
        at=ctx.now(),
        kind=kind,
        actor=ctx.principal.label[:200],
        message=message[:MAX_MESSAGE],
        data=data or {},
    )
    ctx.session.add(event)
    inc.updated_at = ctx.now()
    return event


def _audit(
    ctx: Ctx,
    action: str,
    inc: Incident,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    record(
        ctx,
        action=f"incident.{action}",
        object_type=OBJECT_TYPE,
        object_id=str(inc.id),
        before=before,
        after=after,
    )


def _state(inc: Incident) -> dict[str, Any]:
    return {"status": inc.status, "mergedIntoId": inc.merged_into_id}


def _count_alerts(ctx: Ctx, incident_id: int) -> int:
    return int(
        ctx.session.scalar(
            select(func.count()).select_from(Alert).where(Alert.incident_id == incident_id)
        )
        or 0
    )


def _ref(inc: Incident) -> str:
    return f"#{inc.id} ({inc.title[:200]})"


# ------------------------------------------------------------------- status changes


_STAMP = {
    Action.ACKNOWLEDGE: ("status.acknowledged", "acknowledged"),
    Action.RESOLVE: ("status.resolved", "resolved"),
    Action.REOPEN: ("status.reopened", "reopened: triggered again"),
}


def _apply_status(ctx: Ctx, inc: Incident, action: Action) -> bool:
    """Move `inc` by `action` through the transition table; False when nothing changed."""
    current = Status(inc.status)
    try:
        new = transition(current, action)
    except TransitionError as exc:
        raise Conflict(f"incident {inc.id}: {exc}") from None
    if new == current:
        return False
    now = ctx.now()
    inc.status = new.value
    if new == Status.ACKNOWLEDGED:
        inc.acknowledged_at = now
    elif new == Status.RESOLVED:
        inc.resolved_at = now
    elif new == Status.TRIGGERED:
        inc.acknowledged_at = None
        inc.resolved_at = None
    return True


def _status_action(ctx: Ctx, incident_id: int, action: Action) -> Change:
    _require_responder(ctx)
    inc = _locked(ctx, incident_id)
    if action == Action.REOPEN and inc.merged_into_id is not None:
        raise Conflict(
            f"incident {inc.id} was merged into incident {inc.merged_into_id}; "
            "reopen that one instead"
        )
    before = _state(inc)
    if not _apply_status(ctx, inc, action):
        return Change(inc, False)
    kind, message = _STAMP[action]
    _event(ctx, inc, kind, message, {"from": before["status"], "to": inc.status})
    announce(ctx.session, [inc.id], inc.status, ctx.now())
    if action == Action.RESOLVE:
        _resolve_alerts(ctx, inc)
    _audit(ctx, action.value, inc, before, _state(inc))
    return Change(inc, True)


def _resolve_alerts(ctx: Ctx, inc: Incident) -> None:
    """Resolving an incident by hand resolves its open alerts too (as PagerDuty does), so
    the next trigger of the same problem opens a new incident instead of joining this one."""
    result = ctx.session.execute(
        update(Alert)
        .where(Alert.incident_id == inc.id, Alert.status == FIRING)
        .values(status=RESOLVED, resolved_at=ctx.now())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        _event(
            ctx,
            inc,
            "alert.resolved",
            f"{result.rowcount} open alert(s) resolved with the incident",
            {"count": result.rowcount},
        )


def acknowledge(ctx: Ctx, *, incident_id: int) -> Change:
    """Triggered → acknowledged (someone is on it); paging stops escalating."""
    return _status_action(ctx, incident_id, Action.ACKNOWLEDGE)


def resolve(ctx: Ctx, *, incident_id: int) -> Change:
    """Triggered or acknowledged → resolved, with its open alerts."""
    return _status_action(ctx, incident_id, Action.RESOLVE)


def reopen(ctx: Ctx, *, incident_id: int) -> Change:
    """Resolved → triggered (not for an incident merged into another)."""
    return _status_action(ctx, incident_id, Action.REOPEN)


# ------------------------------------------------------------- notes, edits, people


def add_note(ctx: Ctx, *, incident_id: int, text: str) -> IncidentEvent:
    """A free-text note on the timeline."""
    _require_responder(ctx)
    if not text.strip():
        raise Invalid("a note needs text", [FieldError("text", "must not be blank")])
    inc = _locked(ctx, incident_id)
    event = _event(ctx, inc, "note", text)
    ctx.session.flush()
    _audit(ctx, "note", inc, None, {"eventId": event.id, "text": text[:MAX_MESSAGE]})
    return event


EDITABLE = ("title", "severity", "priority", "urgency")


def edit(ctx: Ctx, *, incident_id: int, changes: dict[str, Any]) -> Change:
    """Change title, severity, priority (None clears it) or urgency; values already
    validated by the schema. Unchanged values are ignored."""
    _require_responder(ctx)
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise Invalid(
            "cannot change these fields", [FieldError(name, "not editable") for name in unknown]
        )
    inc = _locked(ctx, incident_id)
    diff = {
        name: (getattr(inc, name), value)
        for name, value in changes.items()
        if getattr(inc, name) != value
    }
    if not diff:
        return Change(inc, False)
    for name, (_old, new) in diff.items():
        setattr(inc, name, new)
    message = "; ".join(
        f"{name} {old or 'none'} → {new or 'none'}" for name, (old, new) in diff.items()
    )
    _event(
        ctx, inc, "incident.updated", message, {"changes": {k: list(v) for k, v in diff.items()}}
    )
    _audit(
        ctx,
        "update",
        inc,
        {k: old for k, (old, _new) in diff.items()},
        {k: new for k, (_old, new) in diff.items()},
    )
    return Change(inc, True)


def _users_by_name(ctx: Ctx, names: Sequence[str], field: str) -> dict[str, User]:
    if not names:
        return {}
    users = {u.name: u for u in ctx.session.scalars(select(User).where(User.name.in_(names)))}
    missing = [
        FieldError(f"{field}[{i}]", f"no user named {n!r}")
        for i, n in enumerate(names)
        if n not in users
    ]
    if missing:
        raise Invalid("unknown users", missing)
    return users


def assignees(ctx: Ctx, incident_id: int) -> list[str]:
    return list(
        ctx.session.scalars(
            select(User.name)
            .join(incident_assignees, incident_assignees.c.user_id == User.id)
            .where(incident_assignees.c.incident_id == incident_id)
            .order_by(User.name)
        )
    )


def assign(
    ctx: Ctx, *, incident_id: int, add: Sequence[str] = (), remove: Sequence[str] = ()
) -> Change:
    """Add and remove assignees by user name; already-assigned (or absent) ones are no-ops."""
    _require_responder(ctx)
    if not add and not remove:
        raise Invalid("give users to add or remove")
    if set(add) & set(remove):
        raise Invalid("a user cannot be both added and removed")
    adding = _users_by_name(ctx, add, "add")
    inactive = [
        FieldError(f"add[{i}]", f"user {n!r} is deactivated")
        for i, n in enumerate(add)
        if not adding[n].active
    ]
    if inactive:
        raise Invalid("cannot assign deactivated users", inactive)
    removing = _users_by_name(ctx, remove, "remove")
    inc = _locked(ctx, incident_id)
    before = assignees(ctx, inc.id)
    current = set(before)
    new_ids = [u.id for name, u in adding.items() if name not in current]
    gone = [name for name in removing if name in current]
    if not new_ids and not gone:
        return Change(inc, False)
    if new_ids:
        ctx.session.execute(
            insert(incident_assignees),
            [{"incident_id": inc.id, "user_id": uid} for uid in new_ids],
        )
    if gone:
        ctx.session.execute(
            delete(incident_assignees)
            .where(incident_assignees.c.incident_id == inc.id)
            .where(incident_assignees.c.user_id.in_([removing[n].id for n in gone]))
        )
    for name in sorted(n for n in adding if n not in current):
        _event(ctx, inc, "assignee.added", f"assigned {name}", {"user": name})
    for name in sorted(gone):
        _event(ctx, inc, "assignee.removed", f"unassigned {name}", {"user": name})
    after = assignees(ctx, inc.id)
    _audit(ctx, "assign", inc, {"assignees": before}, {"assignees": after})
    return Change(inc, True)


# ---------------------------------------------------------------------- merge, split


def merge(ctx: Ctx, *, target_id: int, source_ids: Sequence[int]) -> Incident:
    """Move the alerts of the source incidents into the target; each source ends resolved
    with `merged_into_id` = target. Both timelines (and the audit log) say so."""
    _require_responder(ctx)
    sources = list(dict.fromkeys(source_ids))
    if not sources:
        raise Invalid("name incidents to merge", [FieldError("sources", "at least one")])
    if target_id in sources:
        raise Invalid(
            "cannot merge an incident into itself",
            [FieldError("sources", f"contains the target {target_id}")],
        )
    found = _locked_many(ctx, [target_id, *sources])
    target = found[target_id]
    if target.merged_into_id is not None:
        raise Conflict(
            f"incident {target.id} was merged into incident {target.merged_into_id}; "
            "merge into that one instead"
        )
    if target.status == Status.RESOLVED.value:
        raise Conflict(f"incident {target.id} is resolved; reopen it before merging into it")
    for sid in sources:
        merged_into = found[sid].merged_into_id
        if merged_into is not None:
            raise Conflict(f"incident {sid} was already merged into incident {merged_into}")
    moved: dict[int, int] = {
        incident_id: int(n)
        for incident_id, n in ctx.session.execute(
            select(Alert.incident_id, func.count())
            .where(Alert.incident_id.in_(sources))
            .group_by(Alert.incident_id)
        )
        if incident_id is not None
    }
    ctx.session.execute(
        update(Alert).where(Alert.incident_id.in_(sources)).values(incident_id=target.id)
    )
    for sid in sources:
        src = found[sid]
        before = _state(src)
        _apply_status(ctx, src, Action.RESOLVE)
        src.merged_into_id = target.id
        src.alert_count = 0
        n = int(moved.get(sid, 0))
        _event(
            ctx,
            src,
            "incident.merged_into",
            f"merged into incident {_ref(target)}: {n} alert(s) moved there",
            {"into": target.id, "alerts": n, "previousStatus": before["status"]},
        )
        _event(
            ctx,
            target,
            "incident.merged",
            f"incident {_ref(src)} merged into this one: {n} alert(s) moved here",
            {"from": src.id, "alerts": n},
        )
        _audit(ctx, "merged_into", src, before, {**_state(src), "alertsMoved": n})
    ctx.session.flush()
    target.alert_count = _count_alerts(ctx, target.id)
    _audit(
        ctx,
        "merge",
        target,
        None,
        {"sources": sources, "alertsMoved": sum(int(v) for v in moved.values())},
    )
    return target


def split(
    ctx: Ctx, *, incident_id: int, alert_ids: Sequence[int], title: str | None = None
) -> Incident:
    """Move the chosen alerts of an incident to a new incident that copies its severity,
    priority, urgency, status and suppression; at least one alert must stay behind."""
    _require_responder(ctx)
    chosen = list(dict.fromkeys(alert_ids))
    if not chosen:
        raise Invalid("choose alerts to split off", [FieldError("alertIds", "at least one")])
    src = _locked(ctx, incident_id)
    if src.merged_into_id is not None:
        raise Conflict(
            f"incident {src.id} was merged into incident {src.merged_into_id}; split that one"
        )
    alerts = ctx.session.scalars(
        select(Alert).where(Alert.id.in_(chosen), Alert.incident_id == src.id).order_by(Alert.id)
    ).all()
    present = {a.id for a in alerts}
    missing = [
        FieldError(f"alertIds[{i}]", f"alert {aid} is not on incident {src.id}")
        for i, aid in enumerate(chosen)
        if aid not in present
    ]
    if missing:
        raise Invalid("some alerts are not on this incident", missing)
    if len(alerts) >= _count_alerts(ctx, src.id):
        raise Invalid(
            "a split must leave at least one alert on the incident",
            [FieldError("alertIds", "choose fewer alerts")],
        )
    now = ctx.now()
    services = {a.service_id for a in alerts}
    first = alerts[0]
    new = Incident(
        service_id=services.pop() if len(services) == 1 else src.service_id,
        title=(title or first.summary or first.dedup_key)[:1024],
        status=src.status,
        severity=src.severity,
        priority=src.priority,
        urgency=src.urgency,
        # A key of its own: later alerts of the original group keep joining the original.
        group_key=f"split:{src.id}:{first.id}",
        escalation_policy=src.escalation_policy,
        suppressed=src.suppressed,
        auto_resolve=src.auto_resolve,
        alert_count=len(alerts),
        merged_into_id=None,
        created_at=now,
        updated_at=now,
        acknowledged_at=src.acknowledged_at,
        resolved_at=src.resolved_at,
    )
    ctx.session.add(new)
    ctx.session.flush()
    ctx.session.execute(
        update(Alert).where(Alert.id.in_([a.id for a in alerts])).values(incident_id=new.id)
    )
    src.alert_count = _count_alerts(ctx, src.id)
    ids = [a.id for a in alerts]
    _event(
        ctx,
        new,
        "incident.split_from",
        f"split from incident {_ref(src)} with {len(ids)} alert(s)",
        {"from": src.id, "alertIds": ids},
    )
    _event(
        ctx,
        src,
        "incident.split",
        f"{len(ids)} alert(s) moved to new incident {_ref(new)}",
        {"into": new.id, "alertIds": ids},
    )
    _audit(ctx, "split", src, None, {"into": new.id, "alertIds": ids})
    _audit(ctx, "create", new, None, {"splitFrom": src.id, "status": new.status})
    return new


# ---------------------------------------------------------------------------- reading


def cursor_id(cursor: str | None) -> int | None:
    """The id in a cursor made by `encode_cursor`; a clear 422 for anything else."""
    if cursor is None:
        return None
    value = decode_cursor(cursor)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Invalid("invalid cursor", [FieldError("query.cursor", "not a cursor")])
    return value


def _filtered(stmt: Select[Any], f: IncidentFilters) -> Select[Any]:
    chosen = set(f.statuses)
    if chosen and len(chosen) < len(Status):
        if Status.RESOLVED.value in chosen:
            # Resolved incidents are nearly all of them: walking the primary key and
            # skipping the few open ones beats reading the status index and sorting.
            others = sorted({s.value for s in Status} - chosen)
            stmt = stmt.where(Incident.status.not_in(others))
        elif len(chosen) == 1:
            stmt = stmt.where(Incident.status == f.statuses[0])
        else:
            stmt = stmt.where(Incident.status.in_(sorted(chosen)))
    if f.service:
        sid = select(Service.id).where(Service.name == f.service).scalar_subquery()
        stmt = stmt.where(Incident.service_id == sid)
    if len(f.severities) == 1:
        stmt = stmt.where(Incident.severity == f.severities[0])
    elif f.severities and len(set(f.severities)) < 4:
        stmt = stmt.where(Incident.severity.in_(f.severities))
    if f.urgency:
        stmt = stmt.where(Incident.urgency == f.urgency)
    if f.assignee:
        assigned = (
            select(incident_assignees.c.incident_id)
            .join(User, User.id == incident_assignees.c.user_id)
            .where(User.name == f.assignee)
        )
        stmt = stmt.where(Incident.id.in_(assigned))
    if f.suppressed is True:
        stmt = stmt.where(Incident.suppressed != "")
    elif f.suppressed is False:
        stmt = stmt.where(Incident.suppressed == "")
    if f.q:
        stmt = stmt.where(Incident.title.icontains(f.q, autoescape=True))
    return stmt


def list_incidents(
    ctx: Ctx, *, filters: IncidentFilters, cursor: str | None = None, limit: int = 50
) -> tuple[list[Incident], str | None]:
    """Newest first (by id), one page and the cursor of the next (None at the end).

    The id-descending walk uses the primary key (or `ix_incidents_status_id` for one
    status), so the first page costs the same on 100 or 100,000 incidents.
    """
    stmt = select(Incident).order_by(Incident.id.desc()).limit(limit + 1)
    before = cursor_id(cursor)
    if before is not None:
        stmt = stmt.where(Incident.id < before)
    rows = list(ctx.session.scalars(_filtered(stmt, filters)))
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1].id)
    return rows, None


def open_counts(ctx: Ctx) -> dict[str, int]:
    """How many incidents are triggered and acknowledged (from the status index)."""
    rows = ctx.session.execute(
        select(Incident.status, func.count())
        .where(Incident.status.in_([Status.TRIGGERED.value, Status.ACKNOWLEDGED.value]))
        .group_by(Incident.status)
    )
    counts = {Status.TRIGGERED.value: 0, Status.ACKNOWLEDGED.value: 0}
    counts.update({status: int(n) for status, n in rows})
    return counts


def get(ctx: Ctx, *, incident_id: int) -> Incident:
    inc = ctx.session.get(Incident, incident_id)
    if inc is None:
        raise _not_found(incident_id)
    return inc


def timeline(
    ctx: Ctx, *, incident_id: int, cursor: str | None = None, limit: int = 100
) -> tuple[list[IncidentEvent], str | None]:
    """Oldest first; the cursor continues after the last entry of this page."""
    get(ctx, incident_id=incident_id)
    stmt = (
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident_id)
        .order_by(IncidentEvent.id)
        .limit(limit + 1)
    )
    after = cursor_id(cursor)
    if after is not None:
        stmt = stmt.where(IncidentEvent.id > after)
    rows = list(ctx.session.scalars(stmt))
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1].id)
    return rows, None


def timeline_tail(
    ctx: Ctx, *, incident_id: int, before: int | None = None, limit: int = 200
) -> tuple[list[IncidentEvent], int | None]:
    """The latest `limit` entries (before an id), oldest first, and the id to go further
    back from (None when these are the earliest)."""
    stmt = (
        select(IncidentEvent)
        .where(IncidentEvent.incident_id == incident_id)
        .order_by(IncidentEvent.id.desc())
        .limit(limit + 1)
    )
    if before is not None:
        stmt = stmt.where(IncidentEvent.id < before)
    rows = list(ctx.session.scalars(stmt))
    earlier = rows[limit - 1].id if len(rows) > limit else None
    return list(reversed(rows[:limit])), earlier


def alerts(
    ctx: Ctx, *, incident_id: int, cursor: str | None = None, limit: int = 50
) -> tuple[list[Alert], str | None]:
    """The incident's alerts, newest first."""
    get(ctx, incident_id=incident_id)
    stmt = (
        select(Alert)
        .where(Alert.incident_id == incident_id)
        .order_by(Alert.id.desc())
        .limit(limit + 1)
    )
    before = cursor_id(cursor)
    if before is not None:
        stmt = stmt.where(Alert.id < before)
    rows = list(ctx.session.scalars(stmt))
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1].id)
    return rows, None


def merged_from(ctx: Ctx, incident_id: int) -> list[int]:
    """Incidents merged into this one, read from its own (indexed) timeline."""
    rows = ctx.session.scalars(
        select(IncidentEvent.data)
        .where(IncidentEvent.incident_id == incident_id)
        .where(IncidentEvent.kind == "incident.merged")
        .order_by(IncidentEvent.id)
    )
    return [int(d["from"]) for d in rows if isinstance(d, dict) and "from" in d]


def firing_count(ctx: Ctx, incident_id: int) -> int:
    return int(
        ctx.session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.incident_id == incident_id, Alert.status == FIRING)
        )
        or 0
    )


# ---------------------------------------------------------------------------- views


def _service_names(ctx: Ctx, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = ctx.session.execute(select(Service.id, Service.name).where(Service.id.in_(ids)))
    return {sid: name for sid, name in rows}


def incident_views(ctx: Ctx, incidents: Sequence[Incident]) -> list[dict[str, Any]]:
    """The API shape of many incidents, with service names and assignees in two queries."""
    names = _service_names(ctx, {i.service_id for i in incidents})
    people: dict[int, list[str]] = {i.id: [] for i in incidents}
    if incidents:
        rows = ctx.session.execute(
            select(incident_assignees.c.incident_id, User.name)
            .join(User, User.id == incident_assignees.c.user_id)
            .where(incident_assignees.c.incident_id.in_(list(people)))
            .order_by(User.name)
        )
        for incident_id, name in rows:
            people[incident_id].append(name)
    return [_incident_view(i, names.get(i.service_id, ""), people[i.id]) for i in incidents]


def incident_view(ctx: Ctx, inc: Incident) -> dict[str, Any]:
    return incident_views(ctx, [inc])[0]


def _incident_view(inc: Incident, service: str, people: list[str]) -> dict[str, Any]:
    return {
        "id": inc.id,
        "title": inc.title,
        "status": inc.status,
        "severity": inc.severity,
        "priority": inc.priority,
        "urgency": inc.urgency,
        "service": service,
        "assignees": people,
        "alertCount": inc.alert_count,
        "suppressed": inc.suppressed,
        "mergedIntoId": inc.merged_into_id,
        "groupKey": inc.group_key,
        "escalationPolicy": inc.escalation_policy,
        "autoResolve": inc.auto_resolve,
        "createdAt": inc.created_at,
        "updatedAt": inc.updated_at,
        "acknowledgedAt": inc.acknowledged_at,
        "resolvedAt": inc.resolved_at,
    }


def event_view(e: IncidentEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "incidentId": e.incident_id,
        "at": e.at,
        "kind": e.kind,
        "actor": e.actor,
        "message": e.message,
        "data": e.data or {},
    }


def alert_views(ctx: Ctx, rows: Sequence[Alert]) -> list[dict[str, Any]]:
    names = _service_names(ctx, {a.service_id for a in rows})
    return [
        {
            "id": a.id,
            "service": names.get(a.service_id, ""),
            "status": a.status,
            "severity": a.severity,
            "summary": a.summary,
            "dedupKey": a.dedup_key,
            "source": a.source,
            "labels": a.payload.labels if a.payload else {},
            "details": a.payload.details if a.payload else {},
            "links": a.payload.links if a.payload else [],
            "count": a.count,
            "suppressed": a.suppressed,
            "firstSeen": a.first_seen,
            "lastSeen": a.last_seen,
            "resolvedAt": a.resolved_at,
        }
        for a in rows
    ]


def detail_view(
    ctx: Ctx, *, incident_id: int, timeline_limit: int = 100, alerts_limit: int = 50
) -> dict[str, Any]:
    """One incident with the first pages of its timeline and alerts."""
    inc = get(ctx, incident_id=incident_id)
    events, events_next = timeline(ctx, incident_id=inc.id, limit=timeline_limit)
    rows, alerts_next = alerts(ctx, incident_id=inc.id, limit=alerts_limit)
    return {
        **incident_view(ctx, inc),
        "mergedFrom": merged_from(ctx, inc.id),
        "timeline": {"items": [event_view(e) for e in events], "nextCursor": events_next},
        "alerts": {"items": alert_views(ctx, rows), "nextCursor": alerts_next},
    }
