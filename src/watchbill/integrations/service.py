"""Keeping a service's integrations in step with its spec; keys, rotation and URLs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from watchbill.access import Role
from watchbill.audit.service import record
from watchbill.catalog.models import Service
from watchbill.catalog.schemas import IntegrationSpec
from watchbill.context import Ctx
from watchbill.errors import FieldError, Forbidden, Invalid, NotFound
from watchbill.integrations.models import (
    ALERTMANAGER,
    EVENTS_V2,
    GENERIC,
    HEARTBEAT,
    Integration,
)


def new_key() -> str:
    """32 hexadecimal characters, the length of a PagerDuty integration key."""
    return secrets.token_hex(16)


def sync(ctx: Ctx, service: Service, wanted: list[IntegrationSpec]) -> None:
    """Create, change and remove integrations so that they match `wanted`.

    A key left out keeps the key the integration has (or gets a new one); a key given
    must not belong to another integration.
    """
    current = {i.name: i for i in service.integrations}
    given = [w.key for w in wanted if w.key]
    if given:
        taken = dict(
            ctx.session.execute(
                select(Integration.key, Service.name)
                .join(Service, Service.id == Integration.service_id)
                .where(Integration.key.in_(given))
                .where(Integration.service_id != service.id if service.id else True)
            ).all()
        )
        errors = [
            FieldError(f"integrations.{i}.key", f"already used by service {taken[w.key]!r}")
            for i, w in enumerate(wanted)
            if w.key in taken
        ]
        if errors:
            raise Invalid("integration key in use", errors)
    for name in set(current) - {w.name for w in wanted}:
        service.integrations.remove(current[name])
    for spec in wanted:
        row = current.get(spec.name)
        if row is None:
            row = Integration(name=spec.name, created_at=ctx.now(), key=spec.key or new_key())
            service.integrations.append(row)
        row.type = spec.type
        row.heartbeat_seconds = spec.interval_seconds
        if spec.key:
            row.key = spec.key


def rotate(ctx: Ctx, service_name: str, name: str) -> Integration:
    """A new key for one integration; the old key stops working at once."""
    if not ctx.principal.can(Role.ADMIN):
        raise Forbidden("rotating integration keys needs the admin role")
    row = ctx.session.scalar(
        select(Integration)
        .join(Service, Service.id == Integration.service_id)
        .where(Service.name == service_name, Integration.name == name)
    )
    if row is None:
        raise NotFound(f"service {service_name!r} has no integration {name!r}")
    old_prefix = row.key[:6]
    row.key = new_key()
    record(
        ctx,
        action="integration.rotate",
        object_type="Integration",
        object_id=f"{service_name}/{name}",
        before={"keyPrefix": old_prefix},
        after={"keyPrefix": row.key[:6]},
    )
    return row


@dataclass(frozen=True, slots=True)
class IntegrationView:
    service: str
    name: str
    type: str
    key: str
    url: str
    interval_seconds: int | None
    last_event_at: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "service": self.service,
            "name": self.name,
            "type": self.type,
            "key": self.key,
            "url": self.url,
            "intervalSeconds": self.interval_seconds,
            "lastEventAt": self.last_event_at,
        }


def url_for(base_url: str, kind: str, key: str) -> str:
    """Where a sender posts: PagerDuty senders put the key in the body, the rest in the URL."""
    if kind == EVENTS_V2:
        return f"{base_url}/v2/enqueue"
    suffix = {ALERTMANAGER: "alertmanager", GENERIC: "events", HEARTBEAT: "heartbeat"}[kind]
    return f"{base_url}/integrations/{key}/{suffix}"


def list_views(ctx: Ctx, base_url: str, service: str | None = None) -> list[IntegrationView]:
    stmt = (
        select(Integration, Service.name)
        .join(Service, Service.id == Integration.service_id)
        .order_by(Service.name, Integration.name)
    )
    if service:
        stmt = stmt.where(Service.name == service)
    return [
        IntegrationView(
            service=svc,
            name=i.name,
            type=i.type,
            key=i.key,
            url=url_for(base_url, i.type, i.key),
            interval_seconds=i.heartbeat_seconds,
            last_event_at=i.last_event_at.isoformat() if i.last_event_at else None,
        )
        for i, svc in ctx.session.execute(stmt).all()
    ]
