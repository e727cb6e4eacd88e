"""Alerts (read), silences and maintenance windows over the API.

Alert listings are newest first with an id cursor, and every filter is shaped to use the
indexes of the alerts table: status → (status, id), service → (service_id, id), incident
→ incident_id; the rest are checked on the rows those yield, newest first, until a page
is full.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from sqlalchemy import select

from watchbill.access import Principal
from watchbill.alerts import maintenance, silences
from watchbill.alerts.maintenance import MaintenanceCreate, MaintenanceOut, MaintenancePage
from watchbill.alerts.models import Alert, AlertPayload
from watchbill.alerts.silences import (
    MAX_ID,
    SilenceCreate,
    SilenceOut,
    SilencePage,
    State,
    cursor_id,
    parse_id,
)
from watchbill.catalog.models import Service
from watchbill.context import Ctx
from watchbill.errors import NotFound
from watchbill.integrations.models import Integration
from watchbill.resources.api import Cursor, Limit, PathName
from watchbill.resources.schema import NAME_PATTERN, CamelModel
from watchbill.resources.service import encode_cursor
from watchbill.routing.schemas import AlertSeverity
from watchbill.web.deps import ReadCtx, Runtime, require, runtime

router = APIRouter(prefix="/api/v1")
AlertStatus = Literal["firing", "resolved"]
IdPath = Annotated[str, Path(max_length=20, description="numeric id")]
Writer = Annotated[Principal, Depends(require(silences.WRITE_ROLE))]
Rt = Annotated[Runtime, Depends(runtime)]
StateQuery = Annotated[State | None, Query(description="active, pending or expired")]


# ----------------------------------------------------------------- alerts


class AlertOut(CamelModel):
    id: int
    service: str
    incident_id: int | None
    dedup_key: str
    status: AlertStatus
    severity: str
    summary: str
    source: str
    labels: dict[str, Any]
    count: int
    suppressed: str
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None


class AlertDetail(AlertOut):
    integration: str | None
    details: dict[str, Any]
    links: list[dict[str, Any]]
    raw: dict[str, Any]


class AlertPage(CamelModel):
    items: list[AlertOut]
    next_cursor: str | None = None


_LIST_COLUMNS = (
    Alert.id,
    Alert.service_id,
    Alert.incident_id,
    Alert.dedup_key,
    Alert.status,
    Alert.severity,
    Alert.summary,
    Alert.source,
    AlertPayload.labels,
    Alert.count,
    Alert.suppressed,
    Alert.first_seen,
    Alert.last_seen,
    Alert.resolved_at,
)


def _alert_view(row: Any, service: str, labels: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "service": service,
        "incidentId": row.incident_id,
        "dedupKey": row.dedup_key,
        "status": row.status,
        "severity": row.severity,
        "summary": row.summary,
        "source": row.source,
        "labels": labels or {},
        "count": row.count,
        "suppressed": row.suppressed,
        "firstSeen": row.first_seen,
        "lastSeen": row.last_seen,
        "resolvedAt": row.resolved_at,
    }


def list_alerts(
    ctx: Ctx,
    *,
    status: str | None = None,
    service: str | None = None,
    severity: str | None = None,
    incident: int | None = None,
    text: str | None = None,
    suppressed: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of alerts, newest first, and the cursor of the next page."""
    stmt = select(*_LIST_COLUMNS).outerjoin(AlertPayload, AlertPayload.alert_id == Alert.id)
    if service is not None:
        service_id = ctx.session.scalar(select(Service.id).where(Service.name == service))
        if service_id is None:
            return [], None
        stmt = stmt.where(Alert.service_id == service_id)
    if status is not None:
        stmt = stmt.where(Alert.status == status)
    if incident is not None:
        stmt = stmt.where(Alert.incident_id == incident)
    if severity is not None:
        stmt = stmt.where(Alert.severity == severity)
    if text:
        stmt = stmt.where(Alert.summary.icontains(text, autoescape=True))
    if suppressed is not None:
        stmt = stmt.where(Alert.suppressed != "" if suppressed else Alert.suppressed == "")
    before = cursor_id(cursor)
    if before is not None:
        stmt = stmt.where(Alert.id < before)
    rows = ctx.session.execute(stmt.order_by(Alert.id.desc()).limit(limit + 1)).all()
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    rows = rows[:limit]
    ids = {r.service_id for r in rows}
    names: dict[int, str] = {}
    if ids:
        names = dict(
            ctx.session.execute(select(Service.id, Service.name).where(Service.id.in_(ids))).all()
        )
    return [_alert_view(r, names.get(r.service_id, ""), r.labels) for r in rows], next_cursor


def get_alert(ctx: Ctx, alert_id: str | int) -> dict[str, Any]:
    """One alert with its details, links and the payload as received."""
    alert = ctx.session.get(Alert, parse_id(alert_id, "alert"))
    if alert is None:
        raise NotFound(f"alert {str(alert_id)[:40]!r} does not exist")
    service = ctx.session.scalar(select(Service.name).where(Service.id == alert.service_id))
    integration = None
    if alert.integration_id is not None:
        integration = ctx.session.scalar(
            select(Integration.name).where(Integration.id == alert.integration_id)
        )
    payload = alert.payload
    return {
        **_alert_view(alert, service or "", payload.labels if payload else None),
        "integration": integration,
        "details": payload.details if payload else {},
        "links": payload.links if payload else [],
        "raw": payload.raw if payload else {},
    }


@router.get("/alerts", response_model=AlertPage, tags=["alerts"], summary="List alerts")
def alerts(
    ctx: ReadCtx,
    status: Annotated[AlertStatus | None, Query(description="firing or resolved")] = None,
    service: Annotated[str | None, Query(pattern=NAME_PATTERN, max_length=63)] = None,
    severity: Annotated[AlertSeverity | None, Query()] = None,
    incident: Annotated[int | None, Query(ge=1, le=MAX_ID, description="incident id")] = None,
    text: Annotated[str | None, Query(max_length=200, description="in the summary")] = None,
    suppressed: Annotated[bool | None, Query(description="only (un)suppressed")] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    items, next_cursor = list_alerts(
        ctx,
        status=status,
        service=service,
        severity=severity,
        incident=incident,
        text=text,
        suppressed=suppressed,
        cursor=cursor,
        limit=limit,
    )
    return {"items": items, "nextCursor": next_cursor}


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertDetail,
    tags=["alerts"],
    summary="Get an alert, with its raw payload",
)
def alert(ctx: ReadCtx, alert_id: IdPath) -> dict[str, Any]:
    return get_alert(ctx, alert_id)


# ----------------------------------------------------------------- silences


@router.get("/silences", response_model=SilencePage, tags=["silences"], summary="List silences")
def silences_list(
    ctx: ReadCtx, state: StateQuery = None, limit: Limit = 50, cursor: Cursor = None
) -> dict[str, Any]:
    rows, next_cursor = silences.list_page(ctx, state=state, cursor=cursor, limit=limit)
    now = ctx.now()
    return {"items": [silences.view(s, now) for s in rows], "nextCursor": next_cursor}


@router.post(
    "/silences",
    status_code=201,
    response_model=SilenceOut,
    tags=["silences"],
    summary="Create a silence (Alertmanager-style matchers)",
)
def silences_create(body: SilenceCreate, principal: Writer, rt: Rt) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        return silences.view(silences.create(ctx, body), ctx.now())


@router.get(
    "/silences/{silence_id}", response_model=SilenceOut, tags=["silences"], summary="Get a silence"
)
def silences_get(ctx: ReadCtx, silence_id: IdPath) -> dict[str, Any]:
    return silences.view(silences.get(ctx, silence_id), ctx.now())


@router.post(
    "/silences/{silence_id}/expire",
    response_model=SilenceOut,
    tags=["silences"],
    summary="Expire a silence now",
)
def silences_expire(silence_id: IdPath, principal: Writer, rt: Rt) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        return silences.view(silences.expire(ctx, silence_id), ctx.now())


@router.delete(
    "/silences/{silence_id}",
    status_code=204,
    tags=["silences"],
    summary="Expire a silence now (it is kept, expired)",
)
def silences_delete(silence_id: IdPath, principal: Writer, rt: Rt) -> Response:
    with rt.write(principal) as ctx:
        silences.expire(ctx, silence_id)
    return Response(status_code=204)


# ----------------------------------------------------------------- maintenance windows


def _windows_page(
    ctx: Ctx, service: str | None, state: str | None, cursor: str | None, limit: int
) -> dict[str, Any]:
    rows, next_cursor = maintenance.list_page(
        ctx, service=service, state=state, cursor=cursor, limit=limit
    )
    now = ctx.now()
    return {"items": [maintenance.view(w, n, now) for w, n in rows], "nextCursor": next_cursor}


@router.get(
    "/maintenance-windows",
    response_model=MaintenancePage,
    tags=["maintenance-windows"],
    summary="List maintenance windows of all services",
)
def windows_all(
    ctx: ReadCtx,
    service: Annotated[str | None, Query(pattern=NAME_PATTERN, max_length=63)] = None,
    state: StateQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return _windows_page(ctx, service, state, cursor, limit)


@router.get(
    "/maintenance-windows/{window_id}",
    response_model=MaintenanceOut,
    tags=["maintenance-windows"],
    summary="Get a maintenance window",
)
def windows_get_flat(ctx: ReadCtx, window_id: IdPath) -> dict[str, Any]:
    window, name = maintenance.get(ctx, window_id)
    return maintenance.view(window, name, ctx.now())


@router.get(
    "/services/{name}/maintenance-windows",
    response_model=MaintenancePage,
    tags=["maintenance-windows"],
    summary="List a service's maintenance windows",
)
def windows_of_service(
    ctx: ReadCtx,
    name: PathName,
    state: StateQuery = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    return _windows_page(ctx, name, state, cursor, limit)


@router.post(
    "/services/{name}/maintenance-windows",
    status_code=201,
    response_model=MaintenanceOut,
    tags=["maintenance-windows"],
    summary="Plan a maintenance window: the service's alerts page nobody while it is active",
)
def windows_create(
    name: PathName, body: MaintenanceCreate, principal: Writer, rt: Rt
) -> dict[str, Any]:
    with rt.write(principal) as ctx:
        window, service = maintenance.create(ctx, name, body)
        return maintenance.view(window, service, ctx.now())


@router.get(
    "/services/{name}/maintenance-windows/{window_id}",
    response_model=MaintenanceOut,
    tags=["maintenance-windows"],
    summary="Get one of a service's maintenance windows",
)
def windows_get(ctx: ReadCtx, name: PathName, window_id: IdPath) -> dict[str, Any]:
    window, service = maintenance.get(ctx, window_id, name)
    return maintenance.view(window, service, ctx.now())


@router.delete(
    "/services/{name}/maintenance-windows/{window_id}",
    status_code=204,
    tags=["maintenance-windows"],
    summary="End a maintenance window now (it is kept, over)",
)
def windows_end(name: PathName, window_id: IdPath, principal: Writer, rt: Rt) -> Response:
    with rt.write(principal) as ctx:
        maintenance.end(ctx, window_id, name)
    return Response(status_code=204)
