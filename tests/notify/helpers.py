"""Users with contact methods and rules, an incident to page about, the worker by hand."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.incidents.helpers import SETUP, event, fire, make_service
from watchbill.adapters.db.engine import Database
from watchbill.context import Ctx
from watchbill.core.clock import FakeClock
from watchbill.jobs.worker import Worker
from watchbill.notify.models import Delivery, DeliveryAttempt
from watchbill.notify.service import page_user
from watchbill.resources import service as resources
from watchbill.users.resource import USERS
from watchbill.users.schemas import UserSpec


def make_user(
    db: Database,
    clock: FakeClock,
    name: str,
    contacts: list[tuple[str, str, str]],
    rules: dict[str, Any] | None = None,
    **spec: Any,
) -> None:
    body = {
        "email": f"{name}@example.com",
        "contactMethods": [{"label": lb, "type": t, "address": a} for lb, t, a in contacts],
        **({"notificationRules": rules} if rules is not None else {}),
        **spec,
    }
    with db.transaction() as session:
        resources.put(Ctx(session, SETUP, clock), USERS, name, UserSpec.model_validate(body))


def make_incident(db: Database, clock: FakeClock, title: str = "checkout is down") -> int:
    sid = make_service(db, clock)
    outcome = fire(db, clock, sid, event("checkout-down", title))
    incident_id = outcome[0].incident_id
    assert incident_id is not None
    work(db, clock)  # the trigger's own job, so later runs count only deliveries
    return incident_id


def page(
    db: Database, clock: FakeClock, incident_id: int, user: str, urgency: str = "high"
) -> list[int]:
    with db.transaction() as session:
        rows = page_user(session, incident_id, user, urgency, clock.now(), "on call for checkout")
        return [d.id for d in rows]


def work(db: Database, clock: FakeClock) -> int:
    """Run every due job once, synchronously, as a worker would."""
    return Worker(db, clock).run_once()


def delivery(db: Database, delivery_id: int) -> Delivery:
    with db.read() as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        return row


def attempts(db: Database, delivery_id: int) -> list[DeliveryAttempt]:
    with db.read() as session:
        return list(
            session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == delivery_id)
                .order_by(DeliveryAttempt.number)
            )
        )
