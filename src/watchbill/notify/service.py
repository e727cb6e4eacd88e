"""Paging a user: plan deliveries from their notification rules, queue durable jobs,
record the timeline; cancel what is still queued once the incident is handled.

`page_users` (`page_user` for one) and `cancel_pending` are what escalation calls, inside
its own transaction, so a page is queued if and only if the escalation step that made it
commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from watchbill.adapters.db.bulk import insert_rows
from watchbill.alerts.ingest import SYSTEM_ACTOR
from watchbill.core.notification_plan import Planned, Urgency, plan
from watchbill.errors import FieldError, Invalid, NotFound
from watchbill.incidents.models import Incident, IncidentEvent
from watchbill.jobs import queue
from watchbill.notify.models import CANCELLED, QUEUED, Delivery, DeliveryAttempt
from watchbill.users.models import User
from watchbill.users.notification_rules import NotificationRulesSpec

DELIVER_JOB = "notify.deliver"
DELIVERY_ATTEMPTS = 8
ACCOUNT_EMAIL = "account-email"
"""The pseudo contact method used when a user has none: the email of their account."""


def job_key(delivery_id: int) -> str:
    return f"{DELIVER_JOB}:{delivery_id}"


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One person to page about one incident, and why (shown in the delivery log)."""

    incident_id: int
    user: str
    urgency: str
    reason: str


@dataclass(slots=True)
class Paged:
    """What paging one person queued: the deliveries, and the timeline rows to write."""

    delivery_ids: list[int] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def page_user(
    session: Session,
    incident_id: int,
    user_name: str,
    urgency: str,
    now: datetime,
    reason: str,
) -> list[Delivery]:
    """Queue the notifications `user_name`'s rules ask for, each at its own time.

    With no rule for the urgency, every contact method is used at once; with no contact
    method, the account email: a page must reach someone who set nothing up.
    """
    try:
        Urgency(urgency)
    except ValueError:
        raise Invalid("bad urgency", [FieldError("urgency", "use high or low")]) from None
    if session.get(Incident, incident_id) is None:
        raise NotFound(f"incident {incident_id} does not exist")
    if session.scalar(select(User.id).where(User.name == user_name)) is None:
        raise NotFound(f"User {user_name!r} does not exist")
    [paged] = page_users(session, [PageRequest(incident_id, user_name, urgency, reason)], now)
    insert_events(session, paged.events)
    return list(
        session.scalars(
            select(Delivery).where(Delivery.id.in_(paged.delivery_ids)).order_by(Delivery.id)
        )
    )


def page_users(session: Session, requests: list[PageRequest], now: datetime) -> list[Paged]:
    """Queue the notifications of many pages at once, in the caller's transaction: one
    query for the people, one insert for the deliveries and one for their jobs, each
    person's rules planned once. Escalation pages a whole storm's incidents this way.
    Returns, per request, the deliveries and the timeline rows, which the caller writes
    in its own order. A person who does not exist or is deactivated is not paged; the
    timeline says so."""
    names = {r.user for r in requests}
    users = {u.name: u for u in session.scalars(select(User).where(User.name.in_(names)))}
    plans: dict[tuple[str, str], list[tuple[str, str, str, datetime]]] = {}
    results = [Paged() for _ in requests]
    rows: list[dict[str, Any]] = []
    owners: list[int] = []
    for i, req in enumerate(requests):
        user = users.get(req.user)
        if user is None or not user.active:
            why = "no such user" if user is None else "the user is deactivated"
            results[i].events.append(
                event_row(
                    req.incident_id,
                    now,
                    "notification.skipped",
                    f"{req.user} was not notified: {why}",
                    {"user": req.user, "reason": req.reason},
                )
            )
            continue
        key = (user.name, req.urgency)
        if key not in plans:
            plans[key] = _plan(user, Urgency(req.urgency), now)
        for label, channel, address, send_at in plans[key]:
            rows.append(
                {
                    "incident_id": req.incident_id,
                    "user_id": user.id,
                    "user_name": user.name,
                    "contact_method": label,
                    "channel": channel,
                    "address": address,
                    "urgency": req.urgency,
                    "reason": req.reason[:500],
                    "status": QUEUED,
                    "attempts": 0,
                    "max_attempts": DELIVERY_ATTEMPTS,
                    "send_at": send_at,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            owners.append(i)
    if not rows:
        return results
    ids = _insert_deliveries(session, rows)
    queue.enqueue_many(
        session,
        [
            {
                "kind": DELIVER_JOB,
                "payload": {"deliveryId": delivery_id},
                "run_at": row["send_at"],
                "idempotency_key": job_key(delivery_id),
                "max_attempts": DELIVERY_ATTEMPTS,
            }
            for row, delivery_id in zip(rows, ids, strict=True)
        ],
        now,
    )
    for row, delivery_id, i in zip(rows, ids, owners, strict=True):
        send_at = row["send_at"]
        when = "now" if send_at <= now else f"at {send_at:%Y-%m-%d %H:%M} UTC"
        results[i].delivery_ids.append(delivery_id)
        results[i].events.append(
            event_row(
                row["incident_id"],
                now,
                "notification.queued",
                f"{row['user_name']} will be notified by {row['channel']} "
                f"({row['contact_method']}) {when}",
                {
                    "deliveryId": delivery_id,
                    "user": row["user_name"],
                    "contactMethod": row["contact_method"],
                    "channel": row["channel"],
                    "sendAt": send_at.isoformat(),
                    "reason": row["reason"],
                },
            )
        )
    return results


def _plan(user: User, urgency: Urgency, now: datetime) -> list[tuple[str, str, str, datetime]]:
    """(contact method, channel, address, send at) for each notification of a page."""
    rules = NotificationRulesSpec.model_validate(user.notification_rules or {}).to_core()
    methods = {c.label: (c.type, c.address) for c in user.contact_methods}
    planned = plan(rules, urgency, now, ZoneInfo(user.time_zone)) or [
        Planned(label, now) for label in methods
    ]
    if not planned:
        methods[ACCOUNT_EMAIL] = ("email", user.email)
        planned = [Planned(ACCOUNT_EMAIL, now)]
    return [(p.contact_method, *methods[p.contact_method], p.send_at) for p in planned]


def insert_events(session: Session, rows: list[dict[str, Any]]) -> None:
    """Timeline rows (from `page_users`, or the caller's own) in one insert."""
    insert_rows(session, IncidentEvent.__table__, rows)


def event_row(
    incident_id: int, now: datetime, kind: str, message: str, data: dict[str, Any]
) -> dict[str, Any]:
    """A system timeline row for `insert_events`."""
    return {
        "incident_id": incident_id,
        "at": now,
        "kind": kind,
        "actor": SYSTEM_ACTOR,
        "message": message[:4000],
        "data": data,
    }


_DELIVERY_KEY = ("incident_id", "user_id", "contact_method", "send_at", "reason")
_INSERT_DELIVERIES_RETURNING = insert(Delivery.__table__).returning(
    Delivery.__table__.c.id, *(Delivery.__table__.c[name] for name in _DELIVERY_KEY)
)
_NEXT_DELIVERY_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('notification_deliveries', 'id')) "
    "FROM generate_series(1, :n)"
)


def _insert_deliveries(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """The new deliveries' ids, in the order of `rows`, from one batched insert.

    RETURNING in parameter order costs SQLite one INSERT per row (it cannot promise the
    order of a multi-row insert), and PostgreSQL's driver re-parses each long multi-row
    statement; together a third of an escalation storm's writes. So PostgreSQL takes
    the ids from the sequence first and inserts them, and on SQLite the rows come back
    in any order and are matched on what tells them apart (rows equal on all of that
    are interchangeable).
    """
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(_NEXT_DELIVERY_IDS, {"n": len(rows)}))
        with_ids = [{**row, "id": id_} for row, id_ in zip(rows, ids, strict=True)]
        insert_rows(session, Delivery.__table__, with_ids)
        return ids
    by_key: dict[tuple[Any, ...], list[int]] = {}
    for returned in session.execute(_INSERT_DELIVERIES_RETURNING, rows):
        by_key.setdefault(tuple(returned[1:]), []).append(returned[0])
    return [by_key[tuple(row[name] for name in _DELIVERY_KEY)].pop() for row in rows]


def cancel_pending(session: Session, incident_id: int, now: datetime) -> int:
    """Cancel the incident's deliveries still waiting to be sent (not those in flight);
    returns how many. Called when the incident is acknowledged or resolved."""
    waiting = list(
        session.scalars(
            select(Delivery)
            .where(Delivery.incident_id == incident_id, Delivery.status == QUEUED)
            .order_by(Delivery.id)
            .with_for_update()
        )
    )
    for delivery in waiting:
        delivery.status = CANCELLED
        delivery.updated_at = now
        queue.cancel(session, job_key(delivery.id), now)
    if waiting:
        status = session.scalar(select(Incident.status).where(Incident.id == incident_id))
        add_event(
            session,
            incident_id,
            now,
            "notification.cancelled",
            f"{len(waiting)} queued notification(s) cancelled: the incident is {status}",
            {"deliveryIds": [d.id for d in waiting]},
        )
    return len(waiting)


def add_event(
    session: Session,
    incident_id: int,
    now: datetime,
    kind: str,
    message: str,
    data: dict[str, Any],
) -> None:
    session.add(IncidentEvent(**event_row(incident_id, now, kind, message, data)))


def incident_deliveries(session: Session, incident_id: int, *, limit: int = 500) -> list[Delivery]:
    if session.get(Incident, incident_id) is None:
        raise NotFound(f"incident {incident_id} does not exist")
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.incident_id == incident_id)
            .order_by(Delivery.id)
            .limit(limit)
        )
    )


def delivery_views(session: Session, deliveries: list[Delivery]) -> list[dict[str, Any]]:
    """The delivery log's API shape: each delivery with every attempt, in two queries."""
    attempts: dict[int, list[dict[str, Any]]] = {d.id: [] for d in deliveries}
    if deliveries:
        for a in session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id.in_(list(attempts)))
            .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.number)
        ):
            attempts[a.delivery_id].append(
                {
                    "number": a.number,
                    "at": a.at,
                    "ok": a.ok,
                    "responseCode": a.response_code,
                    "error": a.error,
                    "durationMs": a.duration_ms,
                }
            )
    return [
        {
            "id": d.id,
            "incidentId": d.incident_id,
            "user": d.user_name,
            "contactMethod": d.contact_method,
            "channel": d.channel,
            "address": d.address,
            "urgency": d.urgency,
            "reason": d.reason,
            "status": d.status,
            "attempts": d.attempts,
            "maxAttempts": d.max_attempts,
            "lastError": d.last_error,
            "responseCode": d.response_code,
            "sendAt": d.send_at,
            "createdAt": d.created_at,
            "updatedAt": d.updated_at,
            "sentAt": d.sent_at,
            "log": attempts[d.id],
        }
        for d in deliveries
    ]
