"""Maintenance windows: while one is active on a service, that service's alerts are
recorded and its incidents opened, but nobody is paged; the incident names the window.

Ending a window sets its end to now (a pending one never starts); windows are kept, so
the record shows what was under maintenance when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints
from sqlalchemy import select

from watchbill.alerts.models import MaintenanceWindow
from watchbill.alerts.silences import (
    EXPIRED,
    PENDING,
    State,
    check_window,
    no_control,
    page_by_id_desc,
    parse_id,
    require_writer,
    where_state,
    window_state,
)
from watchbill.audit.service import record
from watchbill.catalog.models import Service
from watchbill.context import Ctx
from watchbill.errors import Conflict, NotFound
from watchbill.resources.schema import CamelModel


class MaintenanceCreate(CamelModel):
    starts_at: AwareDatetime | None = Field(default=None, description="default: now")
    ends_at: AwareDatetime
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=2000), AfterValidator(no_control)
    ] = ""


class MaintenanceOut(CamelModel):
    id: int
    service: str
    starts_at: datetime
    ends_at: datetime
    description: str
    created_by: str
    created_at: datetime
    state: State


class MaintenancePage(CamelModel):
    items: list[MaintenanceOut]
    next_cursor: str | None = None


def view(w: MaintenanceWindow, service: str, now: datetime) -> dict[str, Any]:
    return {
        "id": w.id,
        "service": service,
        "startsAt": w.starts_at,
        "endsAt": w.ends_at,
        "description": w.description,
        "createdBy": w.created_by,
        "createdAt": w.created_at,
        "state": window_state(w.starts_at, w.ends_at, now),
    }


def _audit_view(w: MaintenanceWindow, service: str, now: datetime) -> dict[str, Any]:
    out = view(w, service, now)
    for key in ("startsAt", "endsAt", "createdAt"):
        out[key] = out[key].isoformat()
    return out


def service_named(ctx: Ctx, name: str) -> Service:
    svc = ctx.session.scalar(select(Service).where(Service.name == name))
    if svc is None:
        raise NotFound(f"service {name[:63]!r} does not exist")
    return svc


def service_names(ctx: Ctx, windows: list[MaintenanceWindow]) -> dict[int, str]:
    ids = {w.service_id for w in windows}
    if not ids:
        return {}
    return dict(
        ctx.session.execute(select(Service.id, Service.name).where(Service.id.in_(ids))).all()
    )


def create(ctx: Ctx, service: str, body: MaintenanceCreate) -> tuple[MaintenanceWindow, str]:
    require_writer(ctx, "planning maintenance windows")
    svc = service_named(ctx, service)
    now = ctx.now()
    starts, ends = check_window(body.starts_at, body.ends_at, now, past_start=True)
    window = MaintenanceWindow(
        service_id=svc.id,
        starts_at=starts,
        ends_at=ends,
        description=body.description,
        created_by=ctx.principal.label,
        created_at=now,
    )
    ctx.session.add(window)
    ctx.session.flush()
    record(
        ctx,
        action="maintenance.create",
        object_type="MaintenanceWindow",
        object_id=str(window.id),
        after=_audit_view(window, svc.name, now),
    )
    return window, svc.name


def get(
    ctx: Ctx, window_id: str | int, service: str | None = None
) -> tuple[MaintenanceWindow, str]:
    """One window (of `service`, when given)."""
    svc = service_named(ctx, service) if service is not None else None
    window = ctx.session.get(MaintenanceWindow, parse_id(window_id, "maintenance window"))
    if window is None or (svc is not None and window.service_id != svc.id):
        raise NotFound(f"maintenance window {str(window_id)[:40]!r} does not exist")
    name = svc.name if svc is not None else service_names(ctx, [window])[window.service_id]
    return window, name


def list_page(
    ctx: Ctx,
    *,
    service: str | None = None,
    state: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[tuple[MaintenanceWindow, str]], str | None]:
    """Newest first; of one service and in one state when asked."""
    stmt = select(MaintenanceWindow)
    if service is not None:
        stmt = stmt.where(MaintenanceWindow.service_id == service_named(ctx, service).id)
    stmt = where_state(stmt, MaintenanceWindow, state, ctx.now())
    rows, next_cursor = page_by_id_desc(ctx, stmt, MaintenanceWindow, cursor, limit)
    names = service_names(ctx, rows)
    return [(w, names[w.service_id]) for w in rows], next_cursor


def end(
    ctx: Ctx, window_id: str | int, service: str | None = None
) -> tuple[MaintenanceWindow, str]:
    """End a window now; a pending one never starts."""
    require_writer(ctx, "ending maintenance windows")
    window, name = get(ctx, window_id, service)
    now = ctx.now()
    state = window_state(window.starts_at, window.ends_at, now)
    if state == EXPIRED:
        raise Conflict(f"maintenance window {window.id} is already over")
    before = _audit_view(window, name, now)
    if state == PENDING:
        window.starts_at = now
    window.ends_at = now
    ctx.session.flush()
    record(
        ctx,
        action="maintenance.end",
        object_type="MaintenanceWindow",
        object_id=str(window.id),
        before=before,
        after=_audit_view(window, name, now),
    )
    return window, name
