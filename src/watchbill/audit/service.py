"""Recording and reading audit events; recording happens in the caller's transaction,
so a change and its audit event are committed together or not at all. The event is
sealed into the chain and inserted at the commit (see `audit/chain.py`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from watchbill.audit import chain
from watchbill.audit.models import AuditEvent
from watchbill.context import Ctx


def record(
    ctx: Ctx,
    *,
    action: str,
    object_type: str,
    object_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=ctx.now(),
        actor=ctx.principal.label,
        action=action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=after,
        source_ip=ctx.principal.source_ip,
    )
    chain.append(ctx.session, event)
    return event


def list_events(
    ctx: Ctx,
    *,
    before_id: int | None = None,
    limit: int = 50,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
) -> list[AuditEvent]:
    """Newest first; `before_id` is the cursor."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    return list(ctx.session.scalars(stmt))
