"""Paging a user: plan deliveries from their notification rules, queue durable jobs,
record the timeline; cancel what is still queued once the incident is handled.

`page_user` and `cancel_pending` are what escalation calls, inside its own transaction,
so a page is queued if and only if the escalation step that made it commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

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
        level = Urgency(urgency)
    except ValueError:
        raise Invalid("bad urgency", [FieldError("urgency", "use high or low")]) from None
    if session.get(Incident, incident_id) is None:
        raise NotFound(f"incident {incident_id} does not exist")
    user = session.scalar(select(User).where(User.name == user_name))
    if user is None:
        raise NotFound(f"User {user_name!r} does not exist")
    if not user.active:
        add_event(
            session,
            incident_id,
            now,
            "notification.skipped",
            f"{user.name} was not notified: the user is deactivated",
            {"user": user.name, "reason": reason},
        )
        return []
    rules = NotificationRulesSpec.model_validate(user.notification_rules or {}).to_core()
    methods = {c.label: (c.type, c.address) for c in user.contact_methods}
    planned = plan(rules, level, now, ZoneInfo(user.time_zone)) or [
        Planned(label, now) for label in methods
    ]
    if not planned:
        methods[ACCOUNT_EMAIL] = ("email", user.email)
        planned = [Planned(ACCOUNT_EMAIL, now)]
    deliveries = []
    for step in planned:
        channel, address = methods[step.contact_method]
        delivery = Delivery(
            incident_id=incident_id,
            user_id=user.id,
            user_name=user.name,
            contact_method=step.contact_method,
            channel=channel,
            address=address,
            urgency=level.value,
            reason=reason[:500],
            status=QUEUED,
            max_attempts=DELIVERY_ATTEMPTS,
            send_at=step.send_at,
            created_at=now,
            updated_at=now,
        )
        session.add(delivery)
        session.flush()
        queue.enqueue(
            session,
            kind=DELIVER_JOB,
            payload={"deliveryId": delivery.id},
            now=now,
            run_at=step.send_at,
            idempotency_key=job_key(delivery.id),
            max_attempts=DELIVERY_ATTEMPTS,
        )
        when = "now" if step.send_at <= now else f"at {step.send_at:%Y-%m-%d %H:%M} UTC"
        add_event(
            session,
            incident_id,
            now,
            "notification.queued",
            f"{user.name} will be notified by {channel} ({step.contact_method}) {when}",
            {**_about(delivery), "sendAt": step.send_at.isoformat(), "reason": delivery.reason},
        )
        deliveries.append(delivery)
    return deliveries


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
    session.add(
        IncidentEvent(
            incident_id=incident_id,
            at=now,
            kind=kind,
            actor=SYSTEM_ACTOR,
            message=message[:4000],
            data=data,
        )
    )


def _about(delivery: Delivery) -> dict[str, Any]:
    return {
        "deliveryId": delivery.id,
        "user": delivery.user_name,
        "contactMethod": delivery.contact_method,
        "channel": delivery.channel,
    }


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
