"""Pages: alerts (refreshing list and detail), silences, maintenance windows, and the
routing rules in the order they are tried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from watchbill.alerts import maintenance, silences
from watchbill.alerts.api import get_alert, list_alerts
from watchbill.alerts.maintenance import MaintenanceCreate
from watchbill.alerts.silences import STATES, SilenceCreate
from watchbill.catalog.models import Service
from watchbill.context import Ctx
from watchbill.errors import WatchbillError
from watchbill.resources.service import invalid_from
from watchbill.routing import service as routing
from watchbill.routing.resource import ROUTING_RULES
from watchbill.web.deps import Runtime, runtime
from watchbill.web.layout import CsrfField, PageUser, SignedIn, check_csrf, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
REFRESH_SECONDS = 15
DURATIONS = {"1h": 1, "2h": 2, "4h": 4, "8h": 8, "1d": 24, "3d": 72, "1w": 168}
STATUSES = ("firing", "resolved")
ALERT_SEVERITIES = ("critical", "error", "warning", "info")
Rt = Annotated[Runtime, Depends(runtime)]
Text200 = Annotated[str, Query(max_length=200)]


def _choice(value: str, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


# ----------------------------------------------------------------- alerts


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    pu: SignedIn,
    status: Text200 = "",
    service: Text200 = "",
    severity: Text200 = "",
    text: Text200 = "",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    filters = {"status": status, "service": service, "severity": severity, "text": text}
    try:
        items, next_cursor = list_alerts(
            pu.ctx(request.app.state.runtime),
            status=_choice(status, STATUSES),
            service=service or None,
            severity=_choice(severity, ALERT_SEVERITIES),
            text=text or None,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
    except WatchbillError as exc:
        return render(request, "error.html", pu, status=exc.status, error=str(exc))
    partial = request.headers.get("hx-request") == "true"
    return render(
        request,
        "alerts/alerts_rows.html" if partial else "alerts/alerts.html",
        pu,
        items=items,
        next_cursor=next_cursor,
        filters=filters,
        statuses=STATUSES,
        severities=ALERT_SEVERITIES,
        refresh=REFRESH_SECONDS,
        services=pu.session.scalars(select(Service.name).order_by(Service.name)).all(),
    )


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_page(request: Request, pu: SignedIn, alert_id: str) -> Response:
    try:
        alert = get_alert(pu.ctx(request.app.state.runtime), alert_id[:20])
    except WatchbillError as exc:
        return render(request, "error.html", pu, status=exc.status, error=str(exc))
    return render(request, "alerts/alert.html", pu, alert=alert)


# ----------------------------------------------------------------- shared form helpers


def _utc(value: str, field: str) -> datetime | None:
    """A `datetime-local` form value, read as UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise WatchbillError(f"{field}: not a date and time", status=422) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _window(rt: Runtime, starts: str, ends: str, duration: str) -> tuple[datetime | None, datetime]:
    starts_at = _utc(starts, "starts")
    ends_at = _utc(ends, "ends")
    if ends_at is None:
        hours = DURATIONS.get(duration)
        if hours is None:
            raise WatchbillError("give an end or a duration", status=422)
        ends_at = (starts_at or rt.clock.now()) + timedelta(hours=hours)
    return starts_at, ends_at


def _problem_text(exc: ValidationError) -> str:
    return str(invalid_from(exc))


# ----------------------------------------------------------------- silences


def _silences_page(
    request: Request,
    pu: PageUser,
    *,
    state: str = "",
    cursor: str | None = None,
    error: str = "",
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    rt: Runtime = request.app.state.runtime
    with rt.db.read() as session:  # fresh: sees what this request wrote
        ctx = Ctx(session, pu.principal, rt.clock)
        try:
            rows, next_cursor = silences.list_page(
                ctx, state=_choice(state, STATES), cursor=cursor, limit=PAGE_SIZE
            )
        except WatchbillError as exc:
            return render(request, "error.html", pu, status=exc.status, error=str(exc))
        now = rt.clock.now()
        items = [
            {**silences.view(s, now), "text": silences.matchers_text(s.matchers)} for s in rows
        ]
    return render(
        request,
        "alerts/silences.html",
        pu,
        items=items,
        next_cursor=next_cursor,
        state=state,
        states=STATES,
        durations=DURATIONS,
        can_write=pu.principal.can(silences.WRITE_ROLE),
        error=error,
        form=form or {"duration": "2h"},
        status=status,
    )


@router.get("/silences", response_class=HTMLResponse)
def silences_page(
    request: Request,
    pu: SignedIn,
    state: Text200 = "",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    return _silences_page(request, pu, state=state, cursor=cursor)


@router.post("/silences", response_class=HTMLResponse)
def silences_create(
    request: Request,
    pu: SignedIn,
    rt: Rt,
    matchers: Annotated[str, Form(max_length=20_000)] = "",
    comment: Annotated[str, Form(max_length=2000)] = "",
    starts: Annotated[str, Form(max_length=32)] = "",
    ends: Annotated[str, Form(max_length=32)] = "",
    duration: Annotated[str, Form(max_length=8)] = "",
    csrf: CsrfField = "",
) -> Response:
    check_csrf(pu, csrf)
    form = {
        "matchers": matchers,
        "comment": comment,
        "starts": starts,
        "ends": ends,
        "duration": duration,
    }
    try:
        starts_at, ends_at = _window(rt, starts, ends, duration)
        body = SilenceCreate.model_validate(
            {
                "matchers": [line.strip() for line in matchers.splitlines() if line.strip()],
                "comment": comment,
                "startsAt": starts_at,
                "endsAt": ends_at,
            }
        )
        with rt.write(pu.principal) as ctx:
            silences.create(ctx, body)
    except ValidationError as exc:
        return _silences_page(request, pu, error=_problem_text(exc), form=form, status=422)
    except WatchbillError as exc:
        return _silences_page(request, pu, error=str(exc), form=form, status=exc.status)
    return RedirectResponse("/silences", status_code=303)


@router.post("/silences/{silence_id}/expire", response_class=HTMLResponse)
def silences_expire(
    request: Request, pu: SignedIn, rt: Rt, silence_id: str, csrf: CsrfField = ""
) -> Response:
    check_csrf(pu, csrf)
    try:
        with rt.write(pu.principal) as ctx:
            silences.expire(ctx, silence_id[:20])
    except WatchbillError as exc:
        return _silences_page(request, pu, error=str(exc), status=exc.status)
    return RedirectResponse("/silences", status_code=303)


# ----------------------------------------------------------------- maintenance windows


def _maintenance_page(
    request: Request,
    pu: PageUser,
    *,
    service: str = "",
    state: str = "",
    cursor: str | None = None,
    error: str = "",
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    rt: Runtime = request.app.state.runtime
    with rt.db.read() as session:
        ctx = Ctx(session, pu.principal, rt.clock)
        try:
            rows, next_cursor = maintenance.list_page(
                ctx,
                service=service or None,
                state=_choice(state, STATES),
                cursor=cursor,
                limit=PAGE_SIZE,
            )
        except WatchbillError as exc:
            return render(request, "error.html", pu, status=exc.status, error=str(exc))
        now = rt.clock.now()
        items = [maintenance.view(w, name, now) for w, name in rows]
        services = session.scalars(select(Service.name).order_by(Service.name)).all()
    return render(
        request,
        "alerts/maintenance.html",
        pu,
        items=items,
        next_cursor=next_cursor,
        service=service,
        state=state,
        states=STATES,
        services=services,
        durations=DURATIONS,
        can_write=pu.principal.can(silences.WRITE_ROLE),
        error=error,
        form=form or {"duration": "2h", "service": service},
        status=status,
    )


@router.get("/maintenance", response_class=HTMLResponse)
def maintenance_page(
    request: Request,
    pu: SignedIn,
    service: Text200 = "",
    state: Text200 = "",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    return _maintenance_page(request, pu, service=service, state=state, cursor=cursor)


@router.post("/maintenance", response_class=HTMLResponse)
def maintenance_create(
    request: Request,
    pu: SignedIn,
    rt: Rt,
    service: Annotated[str, Form(max_length=63)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    starts: Annotated[str, Form(max_length=32)] = "",
    ends: Annotated[str, Form(max_length=32)] = "",
    duration: Annotated[str, Form(max_length=8)] = "",
    csrf: CsrfField = "",
) -> Response:
    check_csrf(pu, csrf)
    form = {
        "service": service,
        "description": description,
        "starts": starts,
        "ends": ends,
        "duration": duration,
    }
    try:
        starts_at, ends_at = _window(rt, starts, ends, duration)
        body = MaintenanceCreate.model_validate(
            {"description": description, "startsAt": starts_at, "endsAt": ends_at}
        )
        with rt.write(pu.principal) as ctx:
            maintenance.create(ctx, service, body)
    except ValidationError as exc:
        return _maintenance_page(request, pu, error=_problem_text(exc), form=form, status=422)
    except WatchbillError as exc:
        return _maintenance_page(request, pu, error=str(exc), form=form, status=exc.status)
    return RedirectResponse("/maintenance", status_code=303)


@router.post("/maintenance/{window_id}/end", response_class=HTMLResponse)
def maintenance_end(
    request: Request, pu: SignedIn, rt: Rt, window_id: str, csrf: CsrfField = ""
) -> Response:
    check_csrf(pu, csrf)
    try:
        with rt.write(pu.principal) as ctx:
            maintenance.end(ctx, window_id[:20])
    except WatchbillError as exc:
        return _maintenance_page(request, pu, error=str(exc), status=exc.status)
    return RedirectResponse("/maintenance", status_code=303)


# ----------------------------------------------------------------- routing rules


@router.get("/routing-rules", response_class=HTMLResponse)
def routing_rules_page(request: Request, pu: SignedIn) -> Response:
    rows, _ = routing.list_in_order(pu.ctx(request.app.state.runtime), limit=1000)
    items: list[dict[str, Any]] = [{"name": r.name, **ROUTING_RULES.spec_json(r)} for r in rows]
    return render(request, "alerts/routing_rules.html", pu, items=items)
