"""Sending one delivery: mark it `sending`, send with no transaction open, record the result.

A delivery moves queued → sending → sent (or back to queued for a retry, or failed).
`sending` is committed before the message leaves and `sent` after, so a re-run of the
job never sends a `sent` delivery again. If a worker dies between the two, the outcome
is unknown and the next run sends again with the same delivery id (the webhook header,
the email Message-ID), so receivers can drop the duplicate: a page is never lost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from watchbill.access import Principal, Role
from watchbill.adapters.db.engine import Database
from watchbill.adapters.serverkey import server_key
from watchbill.audit.service import record
from watchbill.catalog.models import Service
from watchbill.context import Ctx
from watchbill.core.clock import Clock
from watchbill.core.lifecycle import Status
from watchbill.errors import FieldError, Forbidden, Invalid, NotFound
from watchbill.incidents.models import Incident
from watchbill.jobs.handlers import OutboundRun, registry
from watchbill.notify.channels import email, provider, slack, webhook
from watchbill.notify.channels.result import SendResult
from watchbill.notify.links import ActionClaim, LinkAction, sign
from watchbill.notify.message import IncidentInfo, Links, Message
from watchbill.notify.models import (
    CANCELLED,
    FAILED,
    OPEN,
    QUEUED,
    SENDING,
    SENT,
    Delivery,
    DeliveryAttempt,
)
from watchbill.notify.providers import ProviderSpec, provider_for
from watchbill.notify.service import DELIVER_JOB, add_event, delivery_views
from watchbill.settings import Settings, get_settings
from watchbill.users.models import User


class DeliveryFailed(Exception):
    """Raised to the job worker so that it retries the delivery with backoff."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Everything one send needs, read in the transaction that marked it `sending`."""

    delivery_id: int
    attempt: int
    channel: str
    address: str
    message: Message
    webhook_secret: str = ""
    provider: tuple[str, ProviderSpec] | None = None


def prepare(
    session: Session, delivery_id: int, now: datetime, settings: Settings
) -> Outgoing | None:
    """Lock the delivery and mark it `sending`; None when there is nothing to send
    (already sent, failed or cancelled, or the incident was handled meanwhile)."""
    delivery = session.get(Delivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.status not in OPEN:
        return None
    inc = session.get(Incident, delivery.incident_id) if delivery.incident_id else None
    if inc is not None and inc.status != Status.TRIGGERED:
        delivery.status = CANCELLED
        delivery.updated_at = now
        add_event(
            session,
            inc.id,
            now,
            "notification.cancelled",
            f"notification of {delivery.user_name} by {delivery.channel} not sent: "
            f"the incident is {inc.status}",
            {"deliveryIds": [delivery.id]},
        )
        return None
    if delivery.status == SENDING:
        delivery.last_error = f"attempt {delivery.attempts} was interrupted; sending again"
    delivery.status = SENDING
    delivery.attempts += 1
    delivery.updated_at = now
    key = server_key(settings)
    return Outgoing(
        delivery_id=delivery.id,
        attempt=delivery.attempts,
        channel=delivery.channel,
        address=delivery.address,
        message=_message(session, delivery, inc, now, settings, key),
        webhook_secret=webhook.destination_secret(
            key, delivery.user_name, delivery.contact_method, delivery.address
        ),
        provider=provider_for(session, delivery.channel)
        if delivery.channel in ("sms", "phone")
        else None,
    )


def _message(
    session: Session,
    delivery: Delivery,
    inc: Incident | None,
    now: datetime,
    settings: Settings,
    key: bytes,
) -> Message:
    info = links = None
    if inc is not None:
        service = session.scalar(select(Service.name).where(Service.id == inc.service_id))
        info = IncidentInfo(inc.id, inc.title, inc.severity, inc.status, inc.urgency, service or "")
        expires = now + timedelta(hours=settings.action_link_hours)

        def link(action: LinkAction) -> str:
            token = sign(key, ActionClaim(action, inc.id, delivery.user_name, expires))
            return f"{settings.base_url}/act/{token}"

        links = Links(
            link(LinkAction.ACKNOWLEDGE),
            link(LinkAction.RESOLVE),
            f"{settings.base_url}/incidents/{inc.id}",
        )
    return Message(
        delivery_id=delivery.id,
        user=delivery.user_name,
        contact_method=delivery.contact_method,
        urgency=delivery.urgency,
        reason=delivery.reason,
        incident=info,
        links=links,
    )


def transmit(out: Outgoing, settings: Settings, now: datetime) -> SendResult:
    """The I/O: one attempt over the delivery's channel."""
    timeout = settings.notify_timeout_seconds
    if out.channel == "email":
        return email.send(email.SmtpConfig.from_settings(settings), out.message, to=out.address)
    if out.channel in ("sms", "phone"):
        if out.provider is None:
            return SendResult.failed(
                f"no NotificationProvider carries {out.channel}; define one", permanent=True
            )
        name, spec = out.provider
        return provider.send(name, spec, out.message, address=out.address, now=now, timeout=timeout)
    if not out.address.startswith(("http://", "https://")):
        return SendResult.failed(
            "the contact method's address is not an http(s) URL", permanent=True
        )
    if out.channel == "slack":
        return slack.send(out.message, url=out.address, timeout=timeout)
    return webhook.send(
        out.message, url=out.address, secret=out.webhook_secret, now=now, timeout=timeout
    )


def settle(
    session: Session,
    out: Outgoing,
    result: SendResult,
    now: datetime,
    *,
    duration_ms: int,
    last_attempt: bool,
) -> bool:
    """Record the attempt and the delivery's new status; False means "retry later"."""
    delivery = session.get(Delivery, out.delivery_id, with_for_update=True)
    if delivery is None or delivery.status != SENDING or delivery.attempts != out.attempt:
        return True  # settled by another run already
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            number=out.attempt,
            at=now,
            ok=result.ok,
            response_code=result.code,
            error=result.error,
            duration_ms=duration_ms,
        )
    )
    delivery.response_code = result.code
    delivery.updated_at = now
    about = {
        "deliveryId": delivery.id,
        "user": delivery.user_name,
        "contactMethod": delivery.contact_method,
        "channel": delivery.channel,
        "attempt": out.attempt,
        "responseCode": result.code,
    }
    how = f"{delivery.user_name} by {delivery.channel} ({delivery.contact_method})"
    if result.ok:
        delivery.status = SENT
        delivery.sent_at = now
        delivery.last_error = None
        if delivery.incident_id is not None:
            add_event(
                session, delivery.incident_id, now, "notification.sent", f"notified {how}", about
            )
        return True
    delivery.last_error = result.error
    if not (result.permanent or last_attempt):
        delivery.status = QUEUED
        return False
    delivery.status = FAILED
    if delivery.incident_id is not None:
        add_event(
            session,
            delivery.incident_id,
            now,
            "notification.failed",
            f"could not notify {how} after {out.attempt} attempt(s): {result.error}",
            {**about, "error": result.error},
        )
    return True


def attempt(
    db: Database, clock: Clock, settings: Settings, out: Outgoing, *, last_attempt: bool
) -> SendResult:
    """Send `out` (already marked sending) and record the outcome; raises DeliveryFailed
    when it should be retried."""
    started = time.perf_counter()
    result = transmit(out, settings, clock.now())
    elapsed = int((time.perf_counter() - started) * 1000)
    with db.transaction() as session:
        final = settle(
            session, out, result, clock.now(), duration_ms=elapsed, last_attempt=last_attempt
        )
    if not final:
        raise DeliveryFailed(result.error)
    return result


@registry.register_outbound(DELIVER_JOB)
def deliver(run: OutboundRun) -> None:
    """The `notify.deliver` job: one attempt at one delivery, retried with backoff."""
    settings = get_settings()
    with run.db.transaction() as session:
        if not run.held(session):
            return
        out = prepare(session, int(run.payload["deliveryId"]), run.now(), settings)
    if out is not None:
        attempt(run.db, run.clock, settings, out, last_attempt=run.last_attempt)


def send_test(
    db: Database,
    clock: Clock,
    settings: Settings,
    principal: Principal,
    *,
    user_name: str,
    contact_method: str | None = None,
) -> list[dict[str, Any]]:
    """Send a test notification to one or every contact method of a user, now, once
    (no retries: the answer is what the caller wants to see). Admins may test anyone;
    others only themselves."""
    mine = principal.kind == "user" and principal.name == user_name
    if not (mine or principal.can(Role.ADMIN)):
        raise Forbidden("testing another user's notifications needs the admin role")
    now = clock.now()
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.name == user_name))
        if user is None:
            raise NotFound(f"User {user_name!r} does not exist")
        methods = [c for c in user.contact_methods if contact_method in (None, c.label)]
        if not methods:
            detail = (
                f"no contact method labelled {contact_method!r}"
                if contact_method
                else "the user has no contact methods"
            )
            raise Invalid(detail, [FieldError("contactMethod", detail)])
        rows = [
            Delivery(
                user_id=user.id,
                user_name=user.name,
                contact_method=c.label,
                channel=c.type,
                address=c.address,
                urgency="high",
                reason="test notification",
                max_attempts=1,
                send_at=now,
                created_at=now,
                updated_at=now,
            )
            for c in methods
        ]
        session.add_all(rows)
        session.flush()
        ids = [d.id for d in rows]
        record(
            Ctx(session, principal, clock),
            action="user.notify-test",
            object_type="User",
            object_id=user.name,
            after={"contactMethods": [c.label for c in methods], "deliveryIds": ids},
        )
        outgoing = [prepare(session, i, now, settings) for i in ids]
    for out in outgoing:
        if out is not None:
            attempt(db, clock, settings, out, last_attempt=True)
    with db.read() as session:
        sent = list(
            session.scalars(select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id))
        )
        return delivery_views(session, sent)


def signing_secret(session: Session, settings: Settings, *, user_name: str, label: str) -> str:
    """The signing secret of a user's webhook contact method, for its receiver."""
    user = session.scalar(select(User).where(User.name == user_name))
    if user is None:
        raise NotFound(f"User {user_name!r} does not exist")
    method = next((c for c in user.contact_methods if c.label == label), None)
    if method is None:
        raise NotFound(f"{user_name} has no contact method labelled {label!r}")
    if method.type != "webhook":
        raise Invalid(
            "only webhook contact methods are signed",
            [FieldError("label", f"{label!r} is a {method.type} contact method")],
        )
    return webhook.destination_secret(server_key(settings), user.name, label, method.address)
